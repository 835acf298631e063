"""People: users, teams, team memberships, API tokens and the audit log."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import db
from webapp.models._types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from webapp.models.skills import RoleProfile


class Role(enum.StrEnum):
    """What a user may do: engineers their own data, managers their teams', admins everything."""

    ENGINEER = "engineer"
    MANAGER = "manager"
    ADMIN = "admin"


ROLE_VALUES = tuple(r.value for r in Role)


class User(db.Model):  # type: ignore[name-defined,misc]
    """A person who logs in. Emails are stored lower-cased, so uniqueness is case-insensitive."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(f"role IN {ROLE_VALUES!r}", name="role_known"),
        CheckConstraint("availability_pct BETWEEN 0 AND 100", name="availability_range"),
        CheckConstraint("learning_hours_per_week BETWEEN 0 AND 40", name="learning_hours_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.ENGINEER.value, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    target_profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("role_profiles.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Capacity (issue 12): the share of their time they work on projects at all, and their weekly
    # learning budget (None: the organisation's LEARNING_HOURS_PER_WEEK).
    availability_pct: Mapped[int] = mapped_column(SmallInteger, default=100, server_default="100")
    learning_hours_per_week: Mapped[float | None] = mapped_column(Float)

    memberships: Mapped[list[TeamMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    target_profile: Mapped[RoleProfile | None] = relationship()
    unavailable: Mapped[list[UnavailablePeriod]] = relationship(
        cascade="all, delete-orphan", order_by="UnavailablePeriod.starts_on"
    )

    # The four attributes Flask-Login reads, written here so models stay free of Flask imports.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class UnavailablePeriod(db.Model):  # type: ignore[name-defined,misc]
    """Days a person is away (a holiday, leave): no learning hours; both ends included."""

    __tablename__ = "unavailable_periods"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Team(db.Model):  # type: ignore[name-defined,misc]
    """A group of engineers with one or more managers."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memberships: Mapped[list[TeamMembership]] = relationship(
        back_populates="team", cascade="all, delete-orphan"
    )


class TeamMembership(db.Model):  # type: ignore[name-defined,misc]
    """A user's place in a team; ``is_manager`` marks the team's managers."""

    __tablename__ = "team_memberships"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id"),
        Index("ix_team_memberships_user_manager", "user_id", "is_manager"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(db.Model):  # type: ignore[name-defined,misc]
    """A per-user API token for HR and BI tools; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: made before expiry
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)  # what it may read


class UserSession(db.Model):  # type: ignore[name-defined,misc]
    """A signed-in browser: the cookie carries a random token whose SHA-256 is kept here, so
    ending the row (logout, sign out everywhere, password change, deactivation, role change)
    ends the session at once, wherever the cookie went."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_why: Mapped[str | None] = mapped_column(String(40))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):  # type: ignore[name-defined,misc]
    """Failed logins counted per account (``account:<email>``) and per client
    (``client:<address>``), and until when that key must wait before its next attempt."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(320), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    """One change made by a manager or an admin (or the CLI), kept for accountability."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[int | None] = mapped_column()
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()
