"""THE grading use case: claim a stored submission, grade it with the grader handed in, score it
with the one rule, and record the grade and the progress it earns, or the grader's failure."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import nbformat
from nbformat import NotebookNode

from webapp.db import Session
from webapp.grading.autograde import ChecksFailed, GradeResult, KernelStopped, SandboxUnavailable
from webapp.models import Notebook, NotebookVersion, Submission, Workshop
from webapp.services.errors import NotFound
from webapp.services.learning import progress, submissions

log = logging.getLogger(__name__)


class Grader(Protocol):
    """What the use case needs of a grader (``webapp.grading.autograde.Grader`` is one)."""

    def grade(
        self, source: NotebookNode, submission: NotebookNode, *, data_dir: Path | None = None
    ) -> GradeResult: ...


@dataclass(frozen=True)
class GradingWork:
    """What the grader needs, read from the database before the slow part."""

    source: NotebookNode
    submission: NotebookNode
    data_dir: Path | None


MAX_GRADING_RUNS = 2  # a run a system fault stops is run once more; then it is given up

# What the engineer reads when their submission could not be graded (the details go to the log).
NOT_GRADED: dict[type[Exception], str] = {
    KernelStopped: "the kernel running your answers was stopped from outside your notebook",
    ChecksFailed: "the hidden checks could not finish",
    SandboxUnavailable: "the grading sandbox is not available on this server",
}
LOST = "the grading worker stopped before it finished"
INTERNAL = "the grader met an internal error"


def grade_submission(
    session: Session,
    submission_id: int,
    grader: Grader,
    *,
    now: datetime,
    lease: timedelta,
    courses_path: Path,
    commit: Callable[[], None],
) -> bool:
    """Claim, grade and record one submission; False when it was not ours to grade (another
    worker holds it within ``lease``, or it is graded already), leaving it untouched.

    A system fault is never the engineer's: when the grader raises (a kernel stopped from
    outside, checks that could not finish, no sandbox) the grade is run once more, and a second
    fault — or a claim after workers were lost mid-grade ``MAX_GRADING_RUNS`` times — marks the
    submission not graded: no score, no attempt counted, a plain reason on its page.

    Services never commit, but grading takes seconds to minutes, so this one must end
    transactions part-way; ``commit`` is the caller's (the job's session's ``commit``). It is
    called after the claim, so other workers see it before the slow part; after reading what to
    grade, so no transaction stays open while a notebook runs; and after counting a run again.
    The grade (or the not-graded mark) and the progress it earns are flushed, not committed: the
    caller commits them or rolls back.

    ``courses_path`` holds each workshop's folder (its data files are copied to the kernel).
    Raises NotFound if the submission vanished mid-way.
    """
    run = submissions.claim(session, submission_id, now=now, lease=lease)
    if not run:
        return False
    commit()
    if run > MAX_GRADING_RUNS:  # each earlier run's worker was lost mid-grade
        log.error(
            "giving up grading submission %s: its workers were lost %s times",
            submission_id,
            run - 1,
        )
        _not_graded(session, submission_id, LOST)
        return True
    work = read_work(session, submission_id, courses_path=courses_path)
    commit()
    while True:
        try:
            result = grader.grade(work.source, work.submission, data_dir=work.data_dir)
            break
        except Exception as exc:  # the machinery failed, not the engineer's code
            log.exception("grading submission %s failed (run %s)", submission_id, run)
            if run >= MAX_GRADING_RUNS:
                _not_graded(session, submission_id, NOT_GRADED.get(type(exc), INTERNAL))
                return True
            run = submissions.run_again(session, submission_id, now=now)
            commit()
    record_grade(session, submission_id, to_outcome(result))
    return True


def _not_graded(session: Session, submission_id: int, reason: str) -> None:
    submission = _submission(session, submission_id)
    submissions.record_not_graded(session, submission, f"{reason}, on every try")


def read_work(session: Session, submission_id: int, *, courses_path: Path) -> GradingWork:
    """The source notebook, the engineer's notebook and the workshop's data folder (if any)."""
    submission = _submission(session, submission_id)
    version = session.get(NotebookVersion, submission.version_id)
    if version is None:
        raise NotFound("The submission's notebook version no longer exists.")
    return GradingWork(
        source=nbformat.from_dict(version.source),
        submission=nbformat.from_dict(submission.notebook),
        data_dir=_data_dir(session, version, courses_path),
    )


def record_grade(session: Session, submission_id: int, outcome: submissions.Outcome) -> None:
    """Store the outcome (scored by THE score rule) and the progress and evidence it earns."""
    submission = _submission(session, submission_id)
    submissions.record_outcome(session, submission, outcome)
    progress.update_progress(session, submission)


def to_outcome(result: GradeResult) -> submissions.Outcome:
    """The domain's outcome of a grader's result: the grader's own classes stop here."""
    cells = tuple(
        submissions.CellOutcome(
            grade_id=c.grade_id,
            points=c.points,
            max_points=c.max_points,
            status=c.status,
            message=c.message,
        )
        for c in result.cells.values()
    )
    return submissions.Outcome(
        cells=cells,
        tampered=result.tampered,
        feedback=dict(result.feedback),
        sandbox=result.sandbox,
        grader_version=result.grader_version,
    )


def _submission(session: Session, submission_id: int) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound("There is no such submission.")
    return submission


def _data_dir(session: Session, version: NotebookVersion, courses_path: Path) -> Path | None:
    notebook = session.get(Notebook, version.notebook_id)
    workshop = session.get(Workshop, notebook.workshop_id) if notebook else None
    if workshop is None:
        return None
    folder = courses_path / workshop.slug
    return folder if folder.is_dir() else None
