"""Every workshop in courses/ through the real grader: solutions full, stubs 0, wrong answers lose.

One sandboxed Grader serves the whole module and notebooks run concurrently up to its pool size,
so the 12 workshops with all their wrong answers stay within a few minutes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from flask import Flask

from tests.factories import FIXTURE_COURSES
from webapp.grading.autograde import Grader, GraderConfig
from webapp.grading.pool import LEAN_WARM_UP
from webapp.services.catalog import check
from webapp.services.catalog.check import CheckOutcome
from webapp.services.catalog.source import course_folders, load_catalog

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[2]
COURSES = REPO / "courses"
WRONG_ANSWERS = Path(__file__).resolve().parent / "wrong_answers"
SLUGS = [folder.name for folder in course_folders(COURSES)]


@pytest.fixture(scope="module")
def config() -> GraderConfig:
    # Twice the production cell limit: the checks make hundreds of calls between two kernels, and
    # a loaded CI machine must not turn a slow call into a failing reference solution.
    return GraderConfig(
        cell_timeout=60,
        notebook_timeout=240,
        pool_size=2,
        run_root=f"/dev/shm/sfg-courses-{os.getpid()}",
        warm_up=LEAN_WARM_UP,  # each notebook imports what it uses; a warm-up only adds latency
    )


@pytest.fixture(scope="module")
def outcomes(config: GraderConfig) -> Iterator[dict[str, list[CheckOutcome | str]]]:
    """Every check and wrong answer of every workshop, graded once, grouped by slug."""
    source, problems = load_catalog(COURSES)
    assert source is not None, "courses/ does not validate:\n" + "\n".join(problems)
    by_slug: dict[str, list[CheckOutcome | str]] = {c.slug: [] for c in source.courses}
    with ExitStack() as stack:
        jobs, owners = [], []
        for course in source.courses:
            data_dir = stack.enter_context(check.staged_data(course))
            wrong, bad = check.wrong_answer_jobs(
                course, WRONG_ANSWERS / f"{course.slug}.toml", data_dir
            )
            by_slug[course.slug] += bad
            for job in check.check_jobs(course, data_dir) + wrong:
                jobs.append(job)
                owners.append(course.slug)
        grader = stack.enter_context(Grader(config))
        results = check.run_jobs(grader, jobs, workers=config.pool_size)
    for slug, outcome in zip(owners, results, strict=True):
        by_slug[slug].append(outcome)
    yield by_slug
    shutil.rmtree(config.run_root or "", ignore_errors=True)


def failures(items: list[CheckOutcome | str]) -> list[str]:
    found = [item for item in items if isinstance(item, str)]
    for item in items:
        if isinstance(item, CheckOutcome) and not item.ok:
            found += [f"{item.job.label}: {f}" for f in item.failures]
    return found


@pytest.mark.parametrize("slug", SLUGS)
def test_solution_scores_full_student_zero_and_wrong_answers_lose(
    slug: str, outcomes: dict[str, list[CheckOutcome | str]]
) -> None:
    assert slug in outcomes
    ran = [o for o in outcomes[slug] if isinstance(o, CheckOutcome)]
    assert ran, f"{slug}: nothing was graded"
    problems = failures(outcomes[slug])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_graded_exercise_has_a_wrong_answer(slug: str) -> None:
    source, _problems = load_catalog(COURSES)
    assert source is not None
    course = next(c for c in source.courses if c.slug == slug)
    jobs, bad = check.wrong_answer_jobs(course, WRONG_ANSWERS / f"{slug}.toml", None)
    assert not bad, bad
    covered = {cell for job in jobs for cell in job.cells}
    graded = {e.grade_id for nb in course.notebooks for e in nb.exercises if e.kind == "auto"}
    assert graded <= covered, f"{slug}: no wrong answer for {sorted(graded - covered)}"


def test_courses_check_command_passes_a_correct_course_and_fails_a_vacuous_one(
    app: Flask, db: object, tmp_path: Path, override_settings: Callable[..., None]
) -> None:
    courses = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES / "valid", courses)
    override_settings(COURSES_PATH=str(courses), GRADER_NOTEBOOK_TIMEOUT=120)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["courses", "check"])
    assert ok.exit_code == 0, ok.output
    assert "All 4 checks passed for 2 workshops." in ok.output

    # A test that passes without an answer: the student version would score points.
    path = courses / "tiny" / "01-basics.ipynb"
    path.write_text(path.read_text().replace("assert sample_variance([1, 3]) == 2", "pass"))
    path.write_text(path.read_text().replace("assert math.isclose(sample_variance", "#"))
    bad = runner.invoke(args=["courses", "check", "tiny"])
    assert bad.exit_code == 1
    assert "tiny/01-basics.ipynb (student)" in bad.output
    assert "test_var: the student version (no answer) scores 1 (passes vacuously)" in bad.output
