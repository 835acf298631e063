"""Workshop progress: attempts, best score and passing, and the verified evidence a pass earns.

An engineer's score in a workshop is the best graded final submission of each of its current
notebooks, as a share of that notebook's points, weighted by the notebook's points. Passing (the
workshop's threshold, every notebook attempted) appends verified evidence for each skill the
workshop verifies, once, linked to the submission that completed the pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from webapp.db import Session
from webapp.models import (
    EvidenceSource,
    Exercise,
    ExerciseResult,
    Notebook,
    NotebookVersion,
    SkillEvidence,
    Submission,
    SubmissionMode,
    SubmissionStatus,
    Workshop,
    WorkshopProgress,
    WorkshopSkill,
)
from webapp.services.errors import NotFound


@dataclass(frozen=True)
class NotebookScore:
    notebook_id: int
    max_points: float
    best_share: float | None  # None: never graded


def workshop_share(scores: list[NotebookScore]) -> tuple[float, bool]:
    """(weighted share of points, every notebook attempted) — pure, for tests and reuse."""
    total = sum(s.max_points for s in scores)
    if total <= 0:
        return 0.0, False
    earned = sum((s.best_share or 0.0) * s.max_points for s in scores)
    return earned / total, all(s.best_share is not None for s in scores)


def notebook_scores(session: Session, *, user_id: int, workshop_id: int) -> list[NotebookScore]:
    best = (
        select(
            NotebookVersion.notebook_id,
            func.max(Submission.score / func.nullif(Submission.max_score, 0)).label("share"),
        )
        .join(NotebookVersion, NotebookVersion.id == Submission.version_id)
        .where(
            Submission.user_id == user_id,
            Submission.mode == SubmissionMode.FINAL.value,
            Submission.status == SubmissionStatus.GRADED.value,
        )
        .group_by(NotebookVersion.notebook_id)
        .subquery()
    )
    rows = session.execute(
        select(Notebook.id, NotebookVersion.max_points, best.c.share)
        .join(
            NotebookVersion,
            (NotebookVersion.notebook_id == Notebook.id)
            & (NotebookVersion.content_hash == Notebook.current_hash),
        )
        .outerjoin(best, best.c.notebook_id == Notebook.id)
        .where(Notebook.workshop_id == workshop_id, Notebook.archived.is_(False))
    )
    return [
        NotebookScore(nid, float(mx or 0), None if s is None else float(s)) for nid, mx, s in rows
    ]


def update_progress(
    session: Session, submission: Submission, *, count_attempt: bool = True
) -> WorkshopProgress:
    """Refresh the author's progress in the submission's workshop after it was (re)graded."""
    workshop = session.scalar(
        select(Workshop)
        .join(Notebook, Notebook.workshop_id == Workshop.id)
        .join(NotebookVersion, NotebookVersion.notebook_id == Notebook.id)
        .where(NotebookVersion.id == submission.version_id)
    )
    if workshop is None:
        raise NotFound("The submission's workshop no longer exists.")
    progress = session.scalar(
        select(WorkshopProgress).where(
            WorkshopProgress.user_id == submission.user_id,
            WorkshopProgress.workshop_id == workshop.id,
        )
    ) or WorkshopProgress(user_id=submission.user_id, workshop_id=workshop.id, attempts=0)
    session.add(progress)
    if count_attempt and submission.mode == SubmissionMode.FINAL.value:
        progress.attempts = (progress.attempts or 0) + 1
    share, complete = workshop_share(
        notebook_scores(session, user_id=submission.user_id, workshop_id=workshop.id)
    )
    progress.best_score = max(progress.best_score or 0.0, min(share, 1.0))
    if progress.passed_at is None and complete and share >= workshop.pass_threshold:
        progress.passed_at = datetime.now(UTC)
        _append_verified_evidence(session, workshop, submission)
    session.flush()
    return progress


def _append_verified_evidence(session: Session, workshop: Workshop, submission: Submission) -> None:
    """Evidence for each skill the workshop verifies, and for each other skill its exercises are
    tagged with (``skillforge.skill``) where the engineer earned the pass threshold's share of
    those exercises' points, at the workshop's lowest level."""
    levels = dict(
        session.execute(
            select(WorkshopSkill.skill_id, WorkshopSkill.level).where(
                WorkshopSkill.workshop_id == workshop.id
            )
        ).all()
    )
    floor = min(levels.values(), default=1)
    for skill_id, share in tagged_skill_shares(session, submission.user_id, workshop.id).items():
        if skill_id not in levels and share >= workshop.pass_threshold:
            levels[skill_id] = floor
    note = f"Passed {workshop.title} (grader {submission.grader_version or '?'})"
    for skill_id, level in levels.items():
        session.add(
            SkillEvidence(
                user_id=submission.user_id,
                skill_id=skill_id,
                level=level,
                source=EvidenceSource.WORKSHOP.value,
                recorded_by_id=None,
                submission_id=submission.id,
                note=note,
            )
        )


def tagged_skill_shares(session: Session, user_id: int, workshop_id: int) -> dict[int, float]:
    """Per skill tagged on the workshop's current exercises: the best points the engineer earned
    on them (best attempt per exercise) as a share of their points."""
    best = (
        select(
            ExerciseResult.exercise_id,
            func.max(ExerciseResult.points).label("points"),
        )
        .join(Submission, Submission.id == ExerciseResult.submission_id)
        .where(Submission.user_id == user_id, Submission.mode == SubmissionMode.FINAL.value)
        .group_by(ExerciseResult.exercise_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Exercise.skill_id, func.sum(func.coalesce(best.c.points, 0)), func.sum(Exercise.points)
        )
        .join(NotebookVersion, NotebookVersion.id == Exercise.version_id)
        .join(
            Notebook,
            (Notebook.id == NotebookVersion.notebook_id)
            & (Notebook.current_hash == NotebookVersion.content_hash),
        )
        .outerjoin(best, best.c.exercise_id == Exercise.id)
        .where(Notebook.workshop_id == workshop_id, Exercise.skill_id.is_not(None))
        .group_by(Exercise.skill_id)
    )
    return {sid: float(got or 0) / float(total) for sid, got, total in rows if total}
