"""The workshop catalog: workshops, skills, prerequisites, notebooks, versions, exercises."""

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
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import db
from webapp.models._types import UTCDateTime, utcnow
from webapp.models.skills import LEVEL_RANGE, Skill


class Difficulty(enum.StrEnum):
    INTRODUCTORY = "introductory"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class ExerciseKind(enum.StrEnum):
    """How a graded cell is scored: by the autograder, or by a reviewer."""

    AUTO = "auto"
    MANUAL = "manual"
    TASK = "task"


DIFFICULTY_VALUES = tuple(d.value for d in Difficulty)
KIND_VALUES = tuple(k.value for k in ExerciseKind)


class WorkedStatus(enum.StrEnum):
    """Where the outputs of a notebook's worked examples are: waiting, being made, ready, failed."""

    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


WORKED_STATUS_VALUES = tuple(s.value for s in WorkedStatus)


class Workshop(db.Model):  # type: ignore[name-defined,misc]
    """One to three notebooks whose pass verifies skill levels; archived, never deleted."""

    __tablename__ = "workshops"
    __table_args__ = (
        CheckConstraint(f"difficulty IN {DIFFICULTY_VALUES!r}", name="difficulty_known"),
        CheckConstraint("pass_threshold > 0 AND pass_threshold <= 1", name="threshold_range"),
        CheckConstraint("hours > 0", name="hours_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    proves: Mapped[str] = mapped_column(Text, default="")
    hours: Mapped[float] = mapped_column(Float)
    difficulty: Mapped[str] = mapped_column(String(16))
    pass_threshold: Mapped[float] = mapped_column(Float, default=0.8)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    skills: Mapped[list[WorkshopSkill]] = relationship(
        back_populates="workshop", cascade="all, delete-orphan"
    )
    notebooks: Mapped[list[Notebook]] = relationship(
        back_populates="workshop", order_by="Notebook.position"
    )
    prerequisites: Mapped[list[WorkshopPrerequisite]] = relationship(
        foreign_keys="WorkshopPrerequisite.workshop_id", cascade="all, delete-orphan"
    )
    skill_prerequisites: Mapped[list[WorkshopSkillPrerequisite]] = relationship(
        cascade="all, delete-orphan"
    )


class WorkshopSkill(db.Model):  # type: ignore[name-defined,misc]
    """A skill a pass of the workshop verifies, and the level it proves."""

    __tablename__ = "workshop_skills"
    __table_args__ = (CheckConstraint(LEVEL_RANGE, name="level_range"),)

    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(SmallInteger)

    workshop: Mapped[Workshop] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship()


class WorkshopPrerequisite(db.Model):  # type: ignore[name-defined,misc]
    """Another workshop to pass first."""

    __tablename__ = "workshop_prerequisites"
    __table_args__ = (CheckConstraint("workshop_id <> required_id", name="not_self"),)

    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True
    )
    required_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    required: Mapped[Workshop] = relationship(foreign_keys=[required_id])


class WorkshopSkillPrerequisite(db.Model):  # type: ignore[name-defined,misc]
    """A skill level to hold before taking the workshop."""

    __tablename__ = "workshop_skill_prerequisites"
    __table_args__ = (CheckConstraint(LEVEL_RANGE, name="level_range"),)

    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(SmallInteger)

    skill: Mapped[Skill] = relationship()


class Notebook(db.Model):  # type: ignore[name-defined,misc]
    """A notebook of a workshop; its content lives in versions, the current one by hash."""

    __tablename__ = "notebooks"
    __table_args__ = (UniqueConstraint("workshop_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    current_hash: Mapped[str | None] = mapped_column(String(64))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    workshop: Mapped[Workshop] = relationship(back_populates="notebooks")
    versions: Mapped[list[NotebookVersion]] = relationship(
        back_populates="notebook", order_by="NotebookVersion.id"
    )


class NotebookVersion(db.Model):  # type: ignore[name-defined,misc]
    """One content of a notebook, by hash; submissions point at the version they used."""

    __tablename__ = "notebook_versions"
    __table_args__ = (UniqueConstraint("notebook_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notebook_id: Mapped[int] = mapped_column(ForeignKey("notebooks.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[dict[str, Any]] = mapped_column(JSON)  # instructor version, nbformat 4 JSON
    student: Mapped[dict[str, Any]] = mapped_column(JSON)  # what engineers receive
    max_points: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    notebook: Mapped[Notebook] = relationship(back_populates="versions")
    exercises: Mapped[list[Exercise]] = relationship(
        back_populates="version", order_by="Exercise.cell_index", cascade="all, delete-orphan"
    )


class Exercise(db.Model):  # type: ignore[name-defined,misc]
    """A graded cell (nbgrader grade or task cell) of a notebook version."""

    __tablename__ = "exercises"
    __table_args__ = (
        UniqueConstraint("version_id", "grade_id"),
        CheckConstraint(f"kind IN {KIND_VALUES!r}", name="kind_known"),
        CheckConstraint("points >= 0", name="points_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("notebook_versions.id", ondelete="CASCADE"), index=True
    )
    grade_id: Mapped[str] = mapped_column(String(120))
    cell_index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    points: Mapped[float] = mapped_column(Float)
    skill_id: Mapped[int | None] = mapped_column(ForeignKey("skills.id"), index=True)

    version: Mapped[NotebookVersion] = relationship(back_populates="exercises")
    skill: Mapped[Skill | None] = relationship()


class CatalogSync(db.Model):  # type: ignore[name-defined,misc]
    """A run of the catalog sync, with the problems it found; the admin page shows the last ones."""

    __tablename__ = "catalog_syncs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class WorkedExamples(db.Model):  # type: ignore[name-defined,misc]
    """The instructor's outputs of a notebook content's worked examples, made once per content
    hash (when the catalog is synced) in the grading sandbox; see ``grading/worked.py``."""

    __tablename__ = "worked_examples"
    __table_args__ = (
        CheckConstraint(f"status IN {WORKED_STATUS_VALUES!r}", name="status_known"),
        CheckConstraint("size >= 0", name="size_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(8), default=WorkedStatus.QUEUED.value, index=True)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # cell index -> outputs
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)  # worked examples that raised
    error: Mapped[str | None] = mapped_column(Text)  # why no outputs could be made
    size: Mapped[int] = mapped_column(Integer, default=0)  # bytes of ``outputs`` as JSON
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_s: Mapped[float | None] = mapped_column(Float)
