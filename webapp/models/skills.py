"""Skills: the taxonomy, the proficiency scale, evidence of levels, and role profiles."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import db
from webapp.models._types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from webapp.models.people import User

LEVEL_RANGE = "level BETWEEN 1 AND 5"


class EvidenceSource(enum.StrEnum):
    """Where a level comes from; verified workshop evidence outranks the others."""

    SELF = "self"
    MANAGER = "manager"
    WORKSHOP = "workshop"


SOURCE_VALUES = tuple(s.value for s in EvidenceSource)


class ProficiencyLevel(db.Model):  # type: ignore[name-defined,misc]
    """One step of the 1-5 scale, with its name and can-do descriptor."""

    __tablename__ = "proficiency_levels"
    __table_args__ = (CheckConstraint(LEVEL_RANGE, name="level_range"),)

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(60))
    descriptor: Mapped[str] = mapped_column(Text)


class SkillCategory(db.Model):  # type: ignore[name-defined,misc]
    """A group of skills, such as "Data at scale"."""

    __tablename__ = "skill_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))

    skills: Mapped[list[Skill]] = relationship(back_populates="category")


class Skill(db.Model):  # type: ignore[name-defined,misc]
    """A skill of the taxonomy; ``code`` is its stable key in courses/skills.toml."""

    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    category_id: Mapped[int] = mapped_column(ForeignKey("skill_categories.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    sfia_code: Mapped[str | None] = mapped_column(String(8))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    category: Mapped[SkillCategory] = relationship(back_populates="skills")


class SkillEvidence(db.Model):  # type: ignore[name-defined,misc]
    """One observation of a person's level in a skill. Appended, never edited or deleted."""

    __tablename__ = "skill_evidence"
    __table_args__ = (
        CheckConstraint(LEVEL_RANGE, name="level_range"),
        CheckConstraint(f"source IN {SOURCE_VALUES!r}", name="source_known"),
        CheckConstraint(
            "source <> 'workshop' OR submission_id IS NOT NULL", name="workshop_has_submission"
        ),
        Index("ix_skill_evidence_user_skill_time", "user_id", "skill_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), index=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(16))
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")

    skill: Mapped[Skill] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])


class RoleProfile(db.Model):  # type: ignore[name-defined,misc]
    """A named set of target skill levels, such as "ML platform engineer"."""

    __tablename__ = "role_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    targets: Mapped[list[RoleProfileSkill]] = relationship(
        back_populates="profile", cascade="all, delete-orphan"
    )


class RoleProfileSkill(db.Model):  # type: ignore[name-defined,misc]
    """The target level of one skill within a role profile."""

    __tablename__ = "role_profile_skills"
    __table_args__ = (CheckConstraint(LEVEL_RANGE, name="level_range"),)

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("role_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(SmallInteger)

    profile: Mapped[RoleProfile] = relationship(back_populates="targets")
    skill: Mapped[Skill] = relationship()
