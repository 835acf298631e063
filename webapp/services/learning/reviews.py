"""Manual grading: written answers and task cells wait for a reviewer (the engineer's manager or
an admin), who gives points and a comment; the submission's total and progress then update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from webapp.db import Session
from webapp.models import (
    ExerciseResult,
    Notebook,
    NotebookVersion,
    Submission,
    User,
    Workshop,
)
from webapp.services import audit
from webapp.services.access import policy
from webapp.services.errors import InvalidInput, NotFound
from webapp.services.learning import progress, scoring
from webapp.services.rows import labelled, rows_into


@dataclass(frozen=True)
class PendingReview:
    result_id: int
    submission_id: int
    engineer: str
    workshop: str
    notebook: str
    grade_id: str
    max_points: float
    submitted_at: datetime


def pending(session: Session, reviewer: User, limit: int = 200) -> list[PendingReview]:
    """Answers waiting for a reviewer, oldest first."""
    users = policy.reviewable_engineer_ids(session, reviewer)
    stmt = (
        select(
            *labelled(
                PendingReview,
                result_id=ExerciseResult.id,
                submission_id=Submission.id,
                engineer=User.display_name,
                workshop=Workshop.title,
                notebook=Notebook.title,
                grade_id=ExerciseResult.grade_id,
                max_points=ExerciseResult.max_points,
                submitted_at=Submission.submitted_at,
            )
        )
        .join(Submission, Submission.id == ExerciseResult.submission_id)
        .join(User, User.id == Submission.user_id)
        .join(NotebookVersion, NotebookVersion.id == Submission.version_id)
        .join(Notebook, Notebook.id == NotebookVersion.notebook_id)
        .join(Workshop, Workshop.id == Notebook.workshop_id)
        .where(ExerciseResult.status == "manual", ExerciseResult.points.is_(None))
        .order_by(Submission.submitted_at)
        .limit(limit)
    )
    if users is not None:
        stmt = stmt.where(Submission.user_id.in_(users or {-1}))
    return rows_into(PendingReview, session.execute(stmt))


def reviewable_result(session: Session, *, result_id: int, reviewer: User) -> ExerciseResult:
    """The answer to grade, if ``reviewer`` may; raises NotFound or PermissionDenied."""
    result = session.get(ExerciseResult, result_id)
    if result is None or result.status != "manual":
        raise NotFound("There is no answer waiting for review with that id.")
    policy.require_review(session, reviewer, result.submission.user_id)
    return result


def grade_answer(
    session: Session, *, result_id: int, points: float, comment: str, reviewer: User
) -> ExerciseResult:
    """Give a manually graded answer its points; raises InvalidInput, NotFound, PermissionDenied."""
    result = reviewable_result(session, result_id=result_id, reviewer=reviewer)
    submission = result.submission
    if not 0 <= points <= result.max_points:
        raise InvalidInput(f"Give between 0 and {result.max_points:g} points.")
    result.points, result.review_comment = points, comment.strip()
    result.reviewer_id, result.reviewed_at = reviewer.id, datetime.now(UTC)
    session.flush()
    results = session.scalars(
        select(ExerciseResult).where(ExerciseResult.submission_id == submission.id)
    ).all()
    scoring.apply_score(submission, results)
    audit.record(
        session,
        actor=reviewer,
        action="review.grade",
        target_type="exercise_result",
        target_id=result.id,
        points=points,
        submission=submission.id,
    )
    progress.update_progress(session, submission, count_attempt=False)
    return result


def answer_text(session: Session, result_id: int) -> str:
    """The engineer's text for a manually graded cell (what the reviewer reads)."""
    result = session.get(ExerciseResult, result_id)
    if result is None:
        raise NotFound("There is no such answer.")
    submission = session.get(Submission, result.submission_id)
    assert submission is not None
    for cell in submission.notebook.get("cells", []):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == result.grade_id:
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else str(source)
    return ""
