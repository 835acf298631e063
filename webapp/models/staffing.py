"""Staffing: projects, their skill requirements, and who is assigned to them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import db
from webapp.models._types import UTCDateTime, utcnow
from webapp.models.people import Team, User
from webapp.models.skills import Skill


class ProjectStatus(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    DONE = "done"
    ARCHIVED = "archived"


PROJECT_STATUS_VALUES = tuple(s.value for s in ProjectStatus)
# Projects that still need people: planned or running.
OPEN_PROJECT_STATUSES = (ProjectStatus.PLANNED.value, ProjectStatus.ACTIVE.value)


class Project(db.Model):  # type: ignore[name-defined,misc]
    """A piece of work owned by a team, starting on a date, with skill requirements."""

    __tablename__ = "projects"
    __table_args__ = (CheckConstraint(f"status IN {PROJECT_STATUS_VALUES!r}", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(10), default=ProjectStatus.PLANNED.value, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    team: Mapped[Team] = relationship()
    requirements: Mapped[list[ProjectRequirement]] = relationship(
        back_populates="project", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[ProjectAssignment]] = relationship(
        back_populates="project", cascade="all, delete-orphan"
    )


class ProjectRequirement(db.Model):  # type: ignore[name-defined,misc]
    """A project's need: ``headcount`` people at ``min_level`` or above in a skill."""

    __tablename__ = "project_requirements"
    __table_args__ = (
        UniqueConstraint("project_id", "skill_id"),
        CheckConstraint("min_level BETWEEN 1 AND 5", name="level_range"),
        CheckConstraint("headcount >= 1", name="headcount_positive"),
        CheckConstraint("importance BETWEEN 1 AND 5", name="importance_range"),
        CheckConstraint("allocation_pct BETWEEN 1 AND 100", name="allocation_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), index=True)
    min_level: Mapped[int] = mapped_column(SmallInteger)
    headcount: Mapped[int] = mapped_column(SmallInteger, default=1)
    importance: Mapped[int] = mapped_column(SmallInteger, default=3)
    allocation_pct: Mapped[int] = mapped_column(SmallInteger, default=100)

    project: Mapped[Project] = relationship(back_populates="requirements")
    skill: Mapped[Skill] = relationship()


class ProjectAssignment(db.Model):  # type: ignore[name-defined,misc]
    """An engineer working on a project for a share of their time."""

    __tablename__ = "project_assignments"
    __table_args__ = (
        UniqueConstraint("project_id", "user_id"),
        CheckConstraint("allocation_pct BETWEEN 1 AND 100", name="allocation_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    allocation_pct: Mapped[int] = mapped_column(SmallInteger, default=100)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="assignments")
    user: Mapped[User] = relationship()
