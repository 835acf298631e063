"""Submissions: storing a notebook for grading, claiming it once, and recording its grade.

A submission is stored (status ``queued``) and committed before its job is queued. A worker
claims it with one conditional UPDATE, so two workers never grade it at once; a claim whose lease
ran out (the worker died) can be claimed again, which is how a lost job runs again. Recording
replaces nothing: a submission is graded exactly once.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import nbformat
from nbformat import NotebookNode
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from webapp.db import Session
from webapp.grading import notebook as nbg
from webapp.grading import validation
from webapp.grading.wellformed import (
    DEFAULT_LIMITS,
    NotebookLimits,
    answers_size_problem,
    size_problem,
)
from webapp.models import (
    Draft,
    Exercise,
    ExerciseResult,
    Notebook,
    NotebookVersion,
    Skill,
    SkillEvidence,
    Submission,
    SubmissionMode,
    SubmissionStatus,
    User,
    WorkshopProgress,
)
from webapp.services.access import policy
from webapp.services.cache import LRU
from webapp.services.errors import AlreadySubmitted, InvalidInput, NotFound, PracticeRunRefused
from webapp.services.learning import practice, scoring
from webapp.services.rows import labelled, rows_into


@dataclass(frozen=True)
class CellOutcome:
    """What a grader said about one exercise (decoupled from the grader's own classes)."""

    grade_id: str
    points: float | None
    max_points: float
    status: str
    message: str | None


@dataclass(frozen=True)
class Outcome:
    cells: tuple[CellOutcome, ...]
    tampered: tuple[str, ...]
    feedback: dict[str, Any]
    sandbox: str
    grader_version: str


def current_version(session: Session, notebook_id: int) -> NotebookVersion:
    """The version engineers work on now; raises NotFound for an unknown or archived notebook."""
    nb = session.get(Notebook, notebook_id)
    if nb is None or nb.archived or nb.current_hash is None:
        raise NotFound("That notebook is not in the catalog (any more).")
    version = session.scalar(
        select(NotebookVersion).where(
            NotebookVersion.notebook_id == nb.id, NotebookVersion.content_hash == nb.current_hash
        )
    )
    if version is None:
        raise NotFound("That notebook has no current version; ask an admin to sync the catalog.")
    return version


def notebook_from_answers(student: dict[str, Any], answers: dict[str, str]) -> NotebookNode:
    """The student version with the engineer's answers (by solution cell grade_id) filled in."""
    nb = nbformat.from_dict(copy.deepcopy(student))
    known = set()
    for cell in nb.cells:
        gid = nbg.grade_id(cell)
        if gid and nbg.is_solution(cell):
            known.add(gid)
            if gid in answers:
                cell.source = answers[gid]
    unknown = sorted(set(answers) - known)
    if unknown:
        raise InvalidInput(f"These answers do not belong to this notebook: {', '.join(unknown)}.")
    return nb


REFUSED = "This notebook cannot be graded here: "


def parse_upload(
    data: bytes, version: NotebookVersion, limits: NotebookLimits = DEFAULT_LIMITS
) -> NotebookNode:
    """Check an uploaded .ipynb against the notebook and ``limits``; raises InvalidInput saying
    what is wrong. Linear in the file's size: the bounds are checked before anything slower."""
    try:
        nb = nbg.read_notebook(data, limits)
    except nbg.InvalidNotebook as exc:
        raise InvalidInput(f"The file is not a notebook Skillforge can grade: {exc}") from exc
    problems = validation.submission_problems(nbformat.from_dict(version.source), nb)
    if problems:
        raise InvalidInput(REFUSED + " ".join(problems))
    return nb


def create_submission(
    session: Session,
    *,
    user: User,
    version: NotebookVersion,
    nb: NotebookNode,
    mode: str,
    practice_limit: practice.PracticeLimit = practice.DEFAULT_LIMIT,
    limits: NotebookLimits = DEFAULT_LIMITS,
    client_key: str | None = None,
) -> Submission:
    """Store a notebook to grade; the caller commits, then queues ``submission.id``. A practice
    run ("Run tests") is held to ``practice_limit``: raises PracticeRunRefused, storing nothing.
    ``client_key`` (the form's key) makes a retry or a double click one attempt: the same key
    again raises AlreadySubmitted naming the stored one, even when both arrive at once.

    Raises InvalidInput for an unknown mode, for nbgrader metadata of the wrong types or a
    notebook over ``limits`` (checked here too, so no way of building a submission stores one the
    grader would misread or that is too big to handle).
    """
    if mode not in (SubmissionMode.CHECK.value, SubmissionMode.FINAL.value):
        raise InvalidInput("Choose 'Run tests' or 'Submit'.")
    malformed = validation.malformed_metadata(nb)
    if malformed:
        raise InvalidInput(REFUSED + " ".join(malformed))
    too_large = size_problem(nb, limits)
    if too_large is not None:
        raise InvalidInput(REFUSED + too_large)
    key = (client_key or "")[:64] or None
    _refuse_if_sent(session, user.id, key)
    submission = Submission(
        user_id=user.id,
        version_id=version.id,
        notebook_id=version.notebook_id,
        mode=mode,
        status=SubmissionStatus.QUEUED.value,
        notebook=dict(nb),
        max_score=version.max_points,
        client_key=key,
    )
    try:
        if mode == SubmissionMode.CHECK.value:
            practice.add_run(session, submission, limit=practice_limit, now=datetime.now(UTC))
        else:
            with session.begin_nested():
                session.add(submission)
    except (IntegrityError, PracticeRunRefused):  # the same form sent at the same moment?
        _refuse_if_sent(session, user.id, key)
        raise
    session.flush()
    return submission


def _refuse_if_sent(session: Session, user_id: int, key: str | None) -> None:
    if key is None:
        return
    earlier = session.scalar(
        select(Submission.id).where(Submission.user_id == user_id, Submission.client_key == key)
    )
    if earlier is not None:
        raise AlreadySubmitted(earlier)


def claim(session: Session, submission_id: int, *, now: datetime, lease: timedelta) -> int:
    """Mark a submission as running for this worker and count the run; returns the run's number
    (1 for the first), or 0 when another worker holds it or it is already graded. A running
    claim older than ``lease`` is taken over (its worker was lost: that run counts)."""
    runs = session.execute(
        update(Submission)
        .where(
            Submission.id == submission_id,
            or_(
                Submission.status == SubmissionStatus.QUEUED.value,
                (Submission.status == SubmissionStatus.RUNNING.value)
                & (Submission.started_at < now - lease),
            ),
        )
        .values(
            status=SubmissionStatus.RUNNING.value,
            started_at=now,
            grading_runs=Submission.grading_runs + 1,
        )
        .returning(Submission.grading_runs)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return int(runs or 0)


def run_again(session: Session, submission_id: int, *, now: datetime) -> int:
    """Count one more run of a claimed submission (the last one met a system fault)."""
    runs = session.execute(
        update(Submission)
        .where(Submission.id == submission_id)
        .values(started_at=now, grading_runs=Submission.grading_runs + 1)
        .returning(Submission.grading_runs)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return int(runs)


def hand_back(session: Session, submission_id: int) -> bool:
    """Return a running submission to the queue (its worker is stopping), its run uncounted;
    False when it is not running any more (it finished meanwhile)."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # an UPDATE
        update(Submission)
        .where(
            Submission.id == submission_id,
            Submission.status == SubmissionStatus.RUNNING.value,
        )
        .values(
            status=SubmissionStatus.QUEUED.value,
            started_at=None,
            grading_runs=Submission.grading_runs - 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def stalled(
    session: Session, *, now: datetime, lease: timedelta, queued_for: timedelta
) -> list[int]:
    """Submissions whose job was lost: running past the lease, or queued for too long."""
    rows = session.scalars(
        select(Submission.id).where(
            or_(
                (Submission.status == SubmissionStatus.RUNNING.value)
                & (Submission.started_at < now - lease),
                (Submission.status == SubmissionStatus.QUEUED.value)
                & (Submission.submitted_at < now - queued_for),
            )
        )
    )
    return list(rows)


def record_outcome(session: Session, submission: Submission, outcome: Outcome) -> None:
    """Store the grade of a claimed submission: one result per exercise, totals, feedback."""
    exercise_ids = dict(
        session.execute(
            select(Exercise.grade_id, Exercise.id).where(
                Exercise.version_id == submission.version_id
            )
        ).all()
    )
    for cell in outcome.cells:
        session.add(
            ExerciseResult(
                submission_id=submission.id,
                exercise_id=exercise_ids[cell.grade_id],
                grade_id=cell.grade_id,
                status=cell.status,
                points=cell.points,
                max_points=cell.max_points,
                message=cell.message,
            )
        )
    scoring.apply_score(submission, outcome.cells)
    submission.tampered = list(outcome.tampered)
    submission.feedback = outcome.feedback
    submission.sandbox = outcome.sandbox
    submission.grader_version = outcome.grader_version
    submission.status = SubmissionStatus.GRADED.value
    submission.graded_at = datetime.now(UTC)
    session.flush()


def record_not_graded(session: Session, submission: Submission, reason: str) -> None:
    """The machinery failed on every run (not a failing test): the submission is not graded,
    earns nothing and is not counted as an attempt. ``reason`` is shown to the engineer, in
    plain words; the details belong in the log."""
    submission.status = SubmissionStatus.ERROR.value
    submission.error = reason
    submission.graded_at = datetime.now(UTC)
    session.flush()


def get_for_viewer(session: Session, submission_id: int, *, viewer: User) -> Submission:
    """The submission, if the viewer may see it (the access policy: its author, or an admin).

    Raises NotFound or PermissionDenied."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound("There is no such submission.")
    policy.require_submission_view(viewer, submission.user_id)
    return submission


def save_draft(
    session: Session,
    *,
    user: User,
    version: NotebookVersion,
    answers: dict[str, str],
    limits: NotebookLimits = DEFAULT_LIMITS,
) -> Draft:
    """Keep the engineer's unsent answers (autosave); only solution cells of the notebook.

    Raises InvalidInput for an answer to a cell the notebook does not have, or one longer than a
    cell may be (``limits.max_source_bytes``); nothing is stored then."""
    check_answer_sizes(answers, limits)
    notebook_from_answers(version.student, answers)  # raises InvalidInput for unknown cells
    # One statement that inserts or updates: two tabs, or an autosave and Submit, racing to save
    # the first draft must both succeed (a select-then-insert lets the second hit the unique key).
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = datetime.now(UTC)
    values = insert(Draft).values(
        user_id=user.id,
        notebook_id=version.notebook_id,
        version_id=version.id,
        answers=dict(answers),
        updated_at=now,
    )
    session.execute(
        values.on_conflict_do_update(
            index_elements=[Draft.user_id, Draft.notebook_id],
            set_={"version_id": version.id, "answers": values.excluded.answers, "updated_at": now},
        )
    )
    return session.scalars(
        select(Draft)
        .where(Draft.user_id == user.id, Draft.notebook_id == version.notebook_id)
        .execution_options(populate_existing=True)
    ).one()


def check_answer_sizes(answers: dict[str, str], limits: NotebookLimits) -> None:
    """Raises InvalidInput naming the first answer longer than a cell's source may be."""
    if (problem := answers_size_problem(answers, limits.max_source_bytes)) is not None:
        raise InvalidInput(problem)


def load_draft(session: Session, *, user_id: int, notebook_id: int) -> dict[str, str]:
    draft = session.scalar(
        select(Draft).where(Draft.user_id == user_id, Draft.notebook_id == notebook_id)
    )
    return dict(draft.answers) if draft else {}


@dataclass(frozen=True)
class AnswerCell:
    """A cell the engineer writes in: where it sits in the page and what it holds now."""

    cell_id: str
    grade_id: str
    cell_type: str
    source: str


@dataclass(frozen=True)
class Attempt:
    id: int
    mode: str
    status: str
    score: float | None
    max_score: float
    submitted_at: datetime
    needs_review: bool


def answer_cells(student: dict[str, Any], draft: dict[str, str]) -> list[AnswerCell]:
    """The solution cells of a student notebook, holding the draft's text where there is one."""
    nb = nbformat.from_dict(student)
    cells = []
    for cell in nb.cells:
        gid = nbg.grade_id(cell)
        if gid and nbg.is_solution(cell):
            text = draft.get(gid, cell.source)
            cells.append(AnswerCell(str(cell.get("id", "")), gid, cell.cell_type, text))
    return cells


_ANSWER_CELLS: LRU[str, tuple[AnswerCell, ...]] = LRU(256)


def version_answer_cells(
    session: Session, *, version_id: int, content_hash: str, draft: dict[str, str]
) -> list[AnswerCell]:
    """``answer_cells`` of a notebook version, parsing its student JSON once per process (a
    version never changes: its hash names its content)."""
    base = _ANSWER_CELLS.get(content_hash)
    if base is None:
        student = session.scalar(
            select(NotebookVersion.student).where(NotebookVersion.id == version_id)
        )
        base = _ANSWER_CELLS.put(content_hash, tuple(answer_cells(student or {"cells": []}, {})))
    return [replace(cell, source=draft.get(cell.grade_id, cell.source)) for cell in base]


def attempts(session: Session, *, user_id: int, notebook_id: int, limit: int = 50) -> list[Attempt]:
    """The engineer's submissions of a notebook (every version), newest first."""
    rows = session.execute(
        select(
            *labelled(
                Attempt,
                id=Submission.id,
                mode=Submission.mode,
                status=Submission.status,
                score=Submission.score,
                max_score=Submission.max_score,
                submitted_at=Submission.submitted_at,
                needs_review=Submission.needs_review,
            )
        )
        .join(NotebookVersion, NotebookVersion.id == Submission.version_id)
        .where(Submission.user_id == user_id, NotebookVersion.notebook_id == notebook_id)
        .order_by(Submission.id.desc())
        .limit(limit)
    )
    return rows_into(Attempt, rows)


@dataclass(frozen=True)
class ResultRow:
    grade_id: str
    status: str
    points: float | None
    max_points: float
    message: str | None
    review_comment: str | None


@dataclass(frozen=True)
class SubmissionPage:
    id: int
    status: str
    mode: str
    score: float | None
    max_score: float
    needs_review: bool
    error: str | None
    tampered: tuple[str, ...]
    submitted_at: datetime
    graded_at: datetime | None
    sandbox: str | None
    workshop_slug: str
    workshop_title: str
    notebook_id: int
    notebook_title: str
    pass_threshold: float
    best_score: float | None
    passed_at: datetime | None
    results: tuple[ResultRow, ...]
    verified: tuple[tuple[str, int], ...]  # (skill name, level) this submission verified


def submission_page(session: Session, submission: Submission) -> SubmissionPage:
    """Everything the submission page shows, in a few queries."""
    version = submission.version
    notebook = version.notebook
    workshop = notebook.workshop
    progress = session.scalar(
        select(WorkshopProgress).where(
            WorkshopProgress.user_id == submission.user_id,
            WorkshopProgress.workshop_id == workshop.id,
        )
    )
    results = session.scalars(
        select(ExerciseResult)
        .where(ExerciseResult.submission_id == submission.id)
        .order_by(ExerciseResult.id)
    )
    verified = session.execute(
        select(Skill.name, SkillEvidence.level)
        .join(Skill, Skill.id == SkillEvidence.skill_id)
        .where(SkillEvidence.submission_id == submission.id)
    ).all()
    return SubmissionPage(
        submission.id,
        submission.status,
        submission.mode,
        submission.score,
        submission.max_score,
        submission.needs_review,
        submission.error,
        tuple(submission.tampered or ()),
        submission.submitted_at,
        submission.graded_at,
        submission.sandbox,
        workshop.slug,
        workshop.title,
        notebook.id,
        notebook.title,
        workshop.pass_threshold,
        progress.best_score if progress else None,
        progress.passed_at if progress else None,
        tuple(
            ResultRow(r.grade_id, r.status, r.points, r.max_points, r.message, r.review_comment)
            for r in results
        ),
        tuple((name, level) for name, level in verified),
    )
