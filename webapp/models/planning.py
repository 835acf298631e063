"""Training plans as stored jobs, and the training assignments a manager accepts from them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import db
from webapp.models._types import UTCDateTime, utcnow
from webapp.models.catalog import Workshop
from webapp.models.people import Team, User
from webapp.models.staffing import Project, ProjectRequirement


class PlanRunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


PLAN_RUN_STATUS_VALUES = tuple(s.value for s in PlanRunStatus)
PLAN_RUN_PENDING = (PlanRunStatus.QUEUED.value, PlanRunStatus.RUNNING.value)


class PlanRun(db.Model):  # type: ignore[name-defined,misc]
    """One computation of a team's training plan (``team_id`` None: the whole organisation):
    requested, solved by a worker, and kept with its inputs' digest and its result."""

    __tablename__ = "plan_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {PLAN_RUN_STATUS_VALUES!r}", name="status_known"),
        Index("ix_plan_runs_team_requested", "team_id", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(8), default=PlanRunStatus.QUEUED.value, index=True)
    verified_only: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the optimiser's knobs
    stage: Mapped[str] = mapped_column(String(200), default="")  # what the worker does now
    stage_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    digest: Mapped[str | None] = mapped_column(String(64))  # of the inputs it was solved on
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what it was made from
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the stored report
    error: Mapped[str | None] = mapped_column(Text)
    solver_status: Mapped[str | None] = mapped_column(String(12))
    objective: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)  # None: unknown (no plan found in time)
    training_hours: Mapped[float | None] = mapped_column(Float)
    unfilled_slots: Mapped[int | None] = mapped_column(Integer)
    slots: Mapped[int | None] = mapped_column(Integer)
    solve_seconds: Mapped[float | None] = mapped_column(Float)

    team: Mapped[Team | None] = relationship()
    requested_by: Mapped[User | None] = relationship()


class TrainingAssignment(db.Model):  # type: ignore[name-defined,misc]
    """A workshop an engineer is to pass by a date, and why: the project requirement it serves
    (accepted from a plan line by a manager)."""

    __tablename__ = "training_assignments"
    __table_args__ = (UniqueConstraint("user_id", "workshop_id", "requirement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"), index=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    requirement_id: Mapped[int | None] = mapped_column(
        ForeignKey("project_requirements.id", ondelete="SET NULL"), index=True
    )
    plan_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_runs.id", ondelete="SET NULL"), index=True
    )
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"))
    level: Mapped[int] = mapped_column(Integer)  # the level the requirement asks
    position: Mapped[int] = mapped_column(Integer, default=1)  # order within the line
    due_date: Mapped[date] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    workshop: Mapped[Workshop] = relationship()
    project: Mapped[Project] = relationship()
    requirement: Mapped[ProjectRequirement | None] = relationship()
