"""Server-side sessions: each signed-in browser is a row, so the app can end it at once.

The cookie (Flask's signed session) carries a random token; the table keeps its SHA-256 (as for
API tokens: 256 bits of entropy need no salt, and a digest is looked up by index). A request is
signed in only while its row is open, unexpired and its user active, so a copied cookie stops
working the moment the row ends: logout, "sign out everywhere", a password change, a role change
or a deactivation. ``last_seen_at`` is written at most once a minute.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from webapp.db import Session
from webapp.models import User, UserSession
from webapp.services.errors import NotFound
from webapp.services.people.api_tokens import digest

TOUCH_EVERY = timedelta(minutes=1)
# Why a session ended, in words for its owner's list.
ENDED = {
    "logout": "logged out",
    "ended": "ended by you",
    "everywhere": "signed out everywhere",
    "password": "password changed",
    "role": "role changed",
    "deactivated": "account deactivated",
    "reset": "password reset",
}


def start(
    session: Session,
    user: User,
    *,
    now: datetime,
    lifetime: timedelta,
    user_agent: str = "",
    address: str = "",
) -> str:
    """Open a session for the user; returns the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=digest(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            user_agent=user_agent[:200],
            address=address[:64],
        )
    )
    session.flush()
    return token


def resolve(session: Session, token: str, user_id: int, *, now: datetime) -> User | None:
    """The active user whose open, unexpired session this token is; None otherwise."""
    row = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.token_hash == digest(token),
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
            UserSession.expires_at > now,
            User.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    user_session, user = row
    if now - user_session.last_seen_at >= TOUCH_EVERY:
        user_session.last_seen_at = now
    return user


def current_id(session: Session, token: str | None) -> int | None:
    if not token:
        return None
    return session.scalar(select(UserSession.id).where(UserSession.token_hash == digest(token)))


def end(session: Session, token: str, *, now: datetime, why: str = "logout") -> None:
    """End the session this token opened (logging out)."""
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == digest(token), UserSession.ended_at.is_(None))
        .values(ended_at=now, ended_why=why)
    )


def end_one(session: Session, *, user: User, session_id: int, now: datetime) -> UserSession:
    """End one of the user's own sessions (from their list). Raises NotFound for others'."""
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user.id:
        raise NotFound("That session is not one of yours; reload the list.")
    if row.ended_at is None:
        row.ended_at, row.ended_why = now, "ended"
    return row


def end_all(
    session: Session, user_id: int, *, now: datetime, why: str, keep: int | None = None
) -> int:
    """End every open session of the user (but ``keep``); returns how many ended."""
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep)
    result = session.execute(query.values(ended_at=now, ended_why=why))
    return int(result.rowcount)  # type: ignore[attr-defined]


def list_for(session: Session, user_id: int, *, limit: int = 50) -> list[UserSession]:
    """The user's sessions, open ones first, newest first."""
    rows = session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user_id)
        .order_by(UserSession.ended_at.is_not(None), UserSession.last_seen_at.desc())
        .limit(limit)
    )
    return list(rows)


def is_open(row: UserSession, now: datetime) -> bool:
    return row.ended_at is None and row.expires_at > now
