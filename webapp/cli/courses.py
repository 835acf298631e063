"""``courses``: publish the workshop catalog and check it with the real grader."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.cli.common import fail, sync_courses
from webapp.grading.autograde import Grader, GraderConfig
from webapp.services.catalog import check
from webapp.services.catalog import source as catalog_source
from webapp.services.words import count
from webapp.settings import settings_of

courses_cli = click.Group("courses", help="Publish and check the workshop catalog (courses/).")


@courses_cli.command("sync")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def courses_sync_command(path: Path | None) -> None:
    """Validate PATH (default: the courses folder) and publish all of it, or nothing."""
    result = sync_courses(path)
    click.echo(result.summary)


@courses_cli.command("check")
@click.argument("slug", required=False)
@click.option(
    "--wrong-answers",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also run the wrong answers in this folder (<slug>.toml files).",
)
@with_appcontext
def courses_check_command(slug: str | None, wrong_answers: Path | None) -> None:
    """Grade every notebook's solution (must score full) and student version (must score 0)."""
    settings = settings_of(current_app)
    source, problems = catalog_source.load_catalog(settings.courses_path)
    if source is None:
        fail(
            "The courses do not validate; run `flask courses sync` to see why:\n  "
            + "\n  ".join(problems)
        )
    assert source is not None
    courses = [c for c in source.courses if slug in (None, c.slug)]
    if not courses:
        fail(f"No workshop '{slug}' in the courses folder.")
    config = settings.grader
    with ExitStack() as stack:
        jobs = []
        for course in courses:
            data_dir = stack.enter_context(check.staged_data(course))
            jobs += check.check_jobs(course, data_dir)
            if wrong_answers is not None:
                extra, bad = check.wrong_answer_jobs(
                    course, wrong_answers / f"{course.slug}.toml", data_dir
                )
                jobs += extra
                problems += bad
        outcomes = _run_checks(config, jobs)
    failed = [o for o in outcomes if not o.ok]
    for outcome in failed:
        click.echo(f"FAIL {outcome.job.label}", err=True)
        for failure in outcome.failures:
            click.echo(f"  {failure}", err=True)
    for problem in problems:
        click.echo(f"PROBLEM {problem}", err=True)
    if failed or problems:
        fail(f"{len(failed)} of {count(len(outcomes), 'check')} failed.")
    click.echo(f"All {count(len(outcomes), 'check')} passed for {count(len(courses), 'workshop')}.")


def _run_checks(config: GraderConfig, jobs: list[check.CheckJob]) -> list[Any]:
    with (
        Grader(config) as grader,
        click.progressbar(length=len(jobs), label="Grading notebooks", file=sys.stderr) as bar,
    ):
        return check.run_jobs(
            grader, jobs, workers=config.pool_size, on_done=lambda _o: bar.update(1)
        )
