"""Checking workshops with the real grader: solutions score full points, student versions zero.

Also runs the authors' wrong-but-plausible answers (``tests/workshops/wrong_answers/<slug>.toml``):
each replaces its answer cell in the solution version and must lose the points of its
``expect_fail`` test cells. Jobs run concurrently, up to the grader's pool size.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from nbformat import NotebookNode

from webapp.grading import worked
from webapp.grading.autograde import GradeResult
from webapp.grading.notebook import exercises, grade_id
from webapp.services.catalog.source import CourseSource

Expect = Literal["full", "zero", "lose"]


class GraderLike(Protocol):
    def grade(
        self, source: NotebookNode, submission: NotebookNode, *, data_dir: Path | None = None
    ) -> GradeResult: ...


@dataclass(frozen=True)
class CheckJob:
    """One grading run and what its result must be."""

    label: str
    source: NotebookNode
    submission: NotebookNode
    data_dir: Path | None
    expect: Expect
    cells: tuple[str, ...] = ()  # for "lose": the test cells that must lose points


@dataclass(frozen=True)
class CheckOutcome:
    job: CheckJob
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def check_jobs(course: CourseSource, data_dir: Path | None) -> list[CheckJob]:
    """For each notebook: the solution version must score full, the student version zero."""
    jobs = []
    for nb in course.notebooks:
        label = f"{course.slug}/{nb.filename}"
        jobs.append(CheckJob(f"{label} (solution)", nb.source, nb.source, data_dir, "full"))
        jobs.append(CheckJob(f"{label} (student)", nb.source, nb.student, data_dir, "zero"))
    return jobs


def wrong_answer_jobs(
    course: CourseSource, answers_file: Path, data_dir: Path | None
) -> tuple[list[CheckJob], list[str]]:
    """Jobs for the course's wrong answers, and problems with the answers file itself."""
    if not answers_file.exists():
        return [], []
    try:
        entries = tomllib.loads(answers_file.read_text(encoding="utf-8")).get("wrong", [])
    except tomllib.TOMLDecodeError as exc:
        return [], [f"{answers_file.name}: not valid TOML: {exc}"]
    notebooks = {nb.filename: nb for nb in course.notebooks}
    jobs, problems = [], []
    for number, entry in enumerate(entries, 1):
        where = f"{answers_file.name} [[wrong]] #{number}"
        nb = notebooks.get(str(entry.get("notebook")))
        if nb is None:
            problems.append(f"{where}: notebook {entry.get('notebook')!r} is not in the course")
            continue
        submission = _replace_cell(nb.source, str(entry.get("cell")), str(entry.get("source", "")))
        if submission is None:
            problems.append(f"{where}: no cell with grade_id {entry.get('cell')!r}")
            continue
        label = f"{course.slug}/{nb.filename} wrong {entry.get('cell')} ({entry.get('why', '')})"
        cells = tuple(entry.get("expect_fail", []))
        jobs.append(CheckJob(label, nb.source, submission, data_dir, "lose", cells))
    return jobs, problems


def _replace_cell(nb: NotebookNode, gid: str, source: str) -> NotebookNode | None:
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if grade_id(cell) == gid:
            cell.source = source.strip("\n")
            return out
    return None


def judge(job: CheckJob, result: GradeResult) -> tuple[str, ...]:
    """What is wrong with ``result`` given what ``job`` expects; () when it is as expected."""
    auto_ids = {ex.grade_id for ex in exercises(job.source) if ex.kind == "auto"}
    auto = {g: c for g, c in result.cells.items() if g in auto_ids}  # reviewers score the rest
    if job.expect == "full":
        return tuple(
            f"{g}: {c.points or 0:g}/{c.max_points:g} with the reference solution"
            + (f" ({c.message})" if c.message else "")
            for g, c in auto.items()
            if (c.points or 0) < c.max_points
        ) + _failing_worked_examples(job.source, result.feedback)
    if job.expect == "zero":
        return tuple(
            f"{g}: the student version (no answer) scores {c.points:g} (passes vacuously)"
            for g, c in auto.items()
            if (c.points or 0) > 0
        )
    failures = [f"{g}: not a graded cell of this notebook" for g in job.cells if g not in auto]
    failures += [
        f"{g}: the wrong answer still scores {auto[g].points or 0:g}/{auto[g].max_points:g}"
        for g in job.cells
        if g in auto and (auto[g].points or 0) >= auto[g].max_points
    ]
    return tuple(failures)


def _failing_worked_examples(source: NotebookNode, executed: NotebookNode) -> tuple[str, ...]:
    """Worked examples that raise with the solutions in place (the feedback notebook of the
    solution's grade has their outputs): engineers would see the error as the instructor's."""
    if len(executed.get("cells", [])) != len(source.cells):
        return ()
    found = worked.collect(executed, source)
    return tuple(f"worked example {error} with the reference solution" for error in found.errors)


def run_jobs(
    grader: GraderLike,
    jobs: list[CheckJob],
    *,
    workers: int,
    on_done: Callable[[CheckOutcome], None] | None = None,
) -> list[CheckOutcome]:
    """Grade every job, ``workers`` at a time, in the order of ``jobs``."""
    outcomes: dict[int, CheckOutcome] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(_run_one, grader, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            outcome = future.result()
            outcomes[futures[future]] = outcome
            if on_done is not None:
                on_done(outcome)
    return [outcomes[i] for i in range(len(jobs))]


def _run_one(grader: GraderLike, job: CheckJob) -> CheckOutcome:
    try:
        result = grader.grade(job.source, job.submission, data_dir=job.data_dir)
    except Exception as exc:  # a grading failure is a check failure, reported with the rest
        return CheckOutcome(job, (f"grading failed: {type(exc).__name__}: {exc}",))
    return CheckOutcome(job, judge(job, result))


@contextmanager
def staged_data(course: CourseSource) -> Iterator[Path | None]:
    """A folder holding only the course's data files (None when it has none).

    The grader copies a data folder into the kernel's working directory; the course folder itself
    also holds course.toml and the solution notebooks, which a kernel never needs.
    """
    files = [
        p
        for p in course.folder.rglob("*")
        if p.is_file()
        and p.suffix != ".ipynb"
        and p.name != "course.toml"
        and not any(part.startswith(".") for part in p.relative_to(course.folder).parts)
    ]
    if not files:
        yield None
        return
    staging = Path(tempfile.mkdtemp(prefix=f"sf-data-{course.slug}-"))
    try:
        for path in files:
            target = staging / path.relative_to(course.folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
