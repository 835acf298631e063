"""``courses``: publish the workshop catalog and check it with the real grader."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp import jobs
from webapp.cli.common import fail, sync_courses
from webapp.db import db
from webapp.grading.autograde import Grader, GraderConfig
from webapp.models import WorkedExamples, WorkedStatus
from webapp.services.catalog import check, worked
from webapp.services.catalog import source as catalog_source
from webapp.services.words import count
from webapp.settings import settings_of

courses_cli = click.Group("courses", help="Publish and check the workshop catalog (courses/).")


@courses_cli.command("sync")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--archive-all",
    is_flag=True,
    help="Let a folder without any workshop archive every live one (refused otherwise).",
)
@with_appcontext
def courses_sync_command(path: Path | None, archive_all: bool) -> None:
    """Validate PATH (default: the courses folder) and publish all of it, or nothing."""
    result = sync_courses(path, archive_all=archive_all)
    click.echo(result.summary)


@courses_cli.command("outputs")
@click.argument("slugs", nargs=-1)
@click.option("--again", is_flag=True, help="Make them again even where they are made already.")
@with_appcontext
def courses_outputs_command(slugs: tuple[str, ...], again: bool) -> None:
    """Make the outputs of the worked examples now, here (default: those still waiting).

    Notebooks of the synced catalog only (run `flask courses sync` first); SLUGS limits it to
    these workshops. A grading worker does the same by itself after every sync."""
    settings = settings_of(current_app)
    hashes = worked.current_hashes(db.session, slugs=slugs or None)
    if not hashes:
        fail("No synced notebooks" + (f" in {', '.join(slugs)}" if slugs else "") + ".")
    worked.request(db.session, hashes, now=datetime.now(UTC), again=again)
    db.session.commit()
    made: list[WorkedExamples] = []
    waiting = worked.pending(db.session, among=hashes)[0]
    with (
        Grader(settings.grader) as grader,
        click.progressbar(length=waiting, label="Running worked examples", file=sys.stderr) as bar,
    ):
        while (row := jobs.run_worked_examples(grader, among=hashes)) is not None:
            made.append(row)
            bar.update(1)
    failed = [row for row in made if row.status == WorkedStatus.FAILED.value]
    for row in made:
        for problem in ([row.error] if row.error else []) + list(row.errors):
            click.echo(
                f"PROBLEM {worked.notebook_name(db.session, row.content_hash)}: {problem}", err=True
            )
    if failed:
        fail(f"{len(failed)} of {count(len(made), 'notebook')} have no outputs.")
    click.echo(f"Made the worked examples' outputs of {count(len(made), 'notebook')}.")


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
    source, problems = catalog_source.load_catalog(settings.courses_path, settings.notebook_limits)
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
