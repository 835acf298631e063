"""Listing people and the audit log for admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from webapp.db import Session
from webapp.models import AuditEvent, Team, TeamMembership, User


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    email: str
    role: str
    active: bool
    teams: str
    last_login_at: datetime | None


def list_users(
    session: Session, *, query: str = "", limit: int = 200, offset: int = 0
) -> list[UserRow]:
    teams = (
        select(TeamMembership.user_id, func.group_concat(Team.name).label("names"))
        if session.get_bind().dialect.name == "sqlite"
        else select(TeamMembership.user_id, func.string_agg(Team.name, ", ").label("names"))
    )
    teams = teams.join(Team, Team.id == TeamMembership.team_id).group_by(TeamMembership.user_id)
    sub = teams.subquery()
    stmt = (
        select(
            User.id,
            User.display_name,
            User.email,
            User.role,
            User.active,
            sub.c.names,
            User.last_login_at,
        )
        .outerjoin(sub, sub.c.user_id == User.id)
        .order_by(User.display_name)
        .limit(limit)
        .offset(offset)
    )
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(func.lower(User.display_name).like(like) | User.email.like(like))
    return [UserRow(i, n, e, r, a, t or "", ll) for i, n, e, r, a, t, ll in session.execute(stmt)]


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def recent_audit(session: Session, limit: int = 100) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))
