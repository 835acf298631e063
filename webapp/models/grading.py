"""Grading: submissions, per-exercise results, drafts and per-workshop progress."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import db
from webapp.models._types import UTCDateTime, utcnow
from webapp.models.catalog import NotebookVersion


class SubmissionStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    GRADED = "graded"
    ERROR = "error"


class SubmissionMode(enum.StrEnum):
    """``check`` is "Run tests" (not counted); ``final`` is "Submit"."""

    CHECK = "check"
    FINAL = "final"


class ResultStatus(enum.StrEnum):
    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    TIMEOUT = "timeout"
    MANUAL = "manual"


STATUS_VALUES = tuple(s.value for s in SubmissionStatus)
MODE_VALUES = tuple(m.value for m in SubmissionMode)
RESULT_VALUES = tuple(r.value for r in ResultStatus)

# A practice run ("Run tests") is in flight while it is queued or running: at most one per engineer
# and notebook, so the grader answers one question at a time (not an oracle to hammer).
PRACTICE_IN_FLIGHT = text(
    f"mode = '{SubmissionMode.CHECK.value}' AND status IN "
    f"('{SubmissionStatus.QUEUED.value}', '{SubmissionStatus.RUNNING.value}')"
)


def _version_notebook(context: DefaultExecutionContext) -> int | None:
    """A submission's notebook is its version's; the default fills it in for rows inserted
    without it (factories, bulk inserts), so every row can be held to the in-flight index."""
    version_id = context.get_current_parameters().get("version_id")
    return context.connection.scalar(
        select(NotebookVersion.notebook_id).where(NotebookVersion.id == version_id)
    )


class Submission(db.Model):  # type: ignore[name-defined,misc]
    """A notebook handed in for grading; stored before it is queued, graded once."""

    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUS_VALUES!r}", name="status_known"),
        CheckConstraint(f"mode IN {MODE_VALUES!r}", name="mode_known"),
        Index("ix_submissions_user_version", "user_id", "version_id"),
        # The notebook page's form key: the same form sent twice (a retry, a double click)
        # stores one attempt. NULL for attempts made otherwise (uploads, the API, tests).
        UniqueConstraint("user_id", "client_key"),
        Index(
            "uq_submissions_practice_in_flight",
            "user_id",
            "notebook_id",
            unique=True,
            sqlite_where=PRACTICE_IN_FLIGHT,
            postgresql_where=PRACTICE_IN_FLIGHT,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("notebook_versions.id"), index=True)
    # The version's notebook, stored too: the in-flight rule is per notebook, across versions.
    notebook_id: Mapped[int] = mapped_column(
        ForeignKey("notebooks.id"), index=True, default=_version_notebook
    )
    mode: Mapped[str] = mapped_column(String(8), default=SubmissionMode.FINAL.value)
    status: Mapped[str] = mapped_column(
        String(8), default=SubmissionStatus.QUEUED.value, index=True
    )
    notebook: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    tampered: Mapped[list[str]] = mapped_column(JSON, default=list)
    sandbox: Mapped[str | None] = mapped_column(String(32))
    grader_version: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    feedback: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Grading runs started (a claim, or a run again after a system fault); a worker stopped with
    # SIGTERM hands its run back uncounted. Past MAX_GRADING_RUNS it is given up, not counted.
    grading_runs: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    client_key: Mapped[str | None] = mapped_column(String(64))

    version: Mapped[NotebookVersion] = relationship()
    results: Mapped[list[ExerciseResult]] = relationship(
        back_populates="submission", cascade="all, delete-orphan"
    )


class ExerciseResult(db.Model):  # type: ignore[name-defined,misc]
    """One graded cell's score in a submission; a reviewer's points override the autograder."""

    __tablename__ = "exercise_results"
    __table_args__ = (
        UniqueConstraint("submission_id", "grade_id"),
        CheckConstraint(f"status IN {RESULT_VALUES!r}", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id"), index=True)
    grade_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(8))
    points: Mapped[float | None] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    submission: Mapped[Submission] = relationship(back_populates="results")


class Draft(db.Model):  # type: ignore[name-defined,misc]
    """An engineer's unsaved answers to one notebook, autosaved from the editor."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("user_id", "notebook_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notebook_id: Mapped[int] = mapped_column(ForeignKey("notebooks.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("notebook_versions.id"))
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # grade_id -> source
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class WorkshopProgress(db.Model):  # type: ignore[name-defined,misc]
    """An engineer's standing in a workshop: attempts, best share of points, when passed."""

    __tablename__ = "workshop_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "workshop_id"),
        CheckConstraint("best_score >= 0 AND best_score <= 1", name="score_share"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    best_score: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ExerciseProgress(db.Model):  # type: ignore[name-defined,misc]
    """An engineer's practice on one exercise (an answer cell, by its grade id) of a notebook:
    checks in a live kernel and hints seen. Practice is never verified evidence: only a graded
    submission's results are."""

    __tablename__ = "exercise_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "notebook_id", "grade_id"),
        CheckConstraint("hints_revealed >= 0", name="hints_nonnegative"),
        CheckConstraint("checks >= 0", name="checks_nonnegative"),
        Index("ix_exercise_progress_user_updated", "user_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notebook_id: Mapped[int] = mapped_column(ForeignKey("notebooks.id"), index=True)
    grade_id: Mapped[str] = mapped_column(String(120))
    hints_revealed: Mapped[int] = mapped_column(default=0)
    checks: Mapped[int] = mapped_column(default=0)
    practice_attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    practice_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    hint_uses: Mapped[list[HintUse]] = relationship(
        back_populates="progress", cascade="all, delete-orphan", order_by="HintUse.number"
    )


class HintUse(db.Model):  # type: ignore[name-defined,misc]
    """One hint an engineer asked to see: which one (1-based) and when."""

    __tablename__ = "hint_uses"
    __table_args__ = (
        UniqueConstraint("progress_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    progress_id: Mapped[int] = mapped_column(
        ForeignKey("exercise_progress.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()
    revealed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    progress: Mapped[ExerciseProgress] = relationship(back_populates="hint_uses")


class GradingWorker(db.Model):  # type: ignore[name-defined,misc]
    """A grading worker process's heartbeat: /readyz and the admin's Grading page read it."""

    __tablename__ = "grading_workers"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid:start
    host: Mapped[str] = mapped_column(String(120))
    pid: Mapped[int]
    sandbox: Mapped[str] = mapped_column(String(32))
    threads: Mapped[int] = mapped_column(SmallInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
