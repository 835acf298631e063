"""Per-user API tokens: created and shown once, stored as a SHA-256 digest, revocable.

A token is 32 random bytes (URL-safe base64) behind a recognisable ``sf_`` prefix. A digest
without salt is enough here: the token carries 256 bits of entropy, so nothing can be guessed
from a stolen table, and a plain digest can be looked up by index in one query.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from webapp.db import Session
from webapp.models import ApiToken, User
from webapp.services import audit
from webapp.services.access import policy
from webapp.services.errors import InvalidInput, NotFound

PREFIX = "sf_"
# What a token may read, chosen at creation; every API endpoint names the scope it needs.
SCOPES = {
    "skills": "Skill matrices and engineers' progress",
    "staffing": "Projects' staffing gaps",
    "plans": "Training plans",
}
LIFETIMES_DAYS = (7, 30, 90, 365)
MAX_ACTIVE = 10
# Writing last_used_at on every call would turn reads into writes; once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown to its owner once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    *,
    actor: User,
    name: str,
    scopes: Sequence[str] = tuple(SCOPES),
    days: int = 90,
    now: datetime | None = None,
) -> NewToken:
    """A new token for the actor, reading only ``scopes``, expiring after ``days``. Raises
    InvalidInput for a bad name, scope or lifetime, or too many tokens."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput("Name the token (at most 80 characters), e.g. after the tool using it.")
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown or not scopes:
        raise InvalidInput(
            "Choose what the token may read: one or more of " + ", ".join(SCOPES) + "."
        )
    if days not in LIFETIMES_DAYS:
        raise InvalidInput(
            "Choose how long the token works: "
            + ", ".join(f"{d} days" for d in LIFETIMES_DAYS)
            + "."
        )
    if len(list_tokens(session, actor.id)) >= MAX_ACTIVE:
        raise InvalidInput(f"You have {MAX_ACTIVE} active tokens; revoke one you no longer use.")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = now or datetime.now(UTC)
    token = ApiToken(
        user_id=actor.id,
        name=name,
        token_hash=digest(secret),
        created_at=now,
        expires_at=now + timedelta(days=days),
        scopes=sorted(set(scopes)),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="api_token.create",
        target_type="api_token",
        target_id=token.id,
        name=name,
        scopes=token.scopes,
        days=days,
    )
    return NewToken(token, secret)


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """The user's active (unrevoked) tokens, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, token_id: int, *, actor: User) -> ApiToken:
    """Revoke one of the actor's tokens (admins may revoke anyone's). Raises NotFound."""
    token = session.get(ApiToken, token_id)
    if token is None or not policy.can_manage_token(actor, token.user_id):
        raise NotFound("That token does not exist or is not yours.")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="api_token.revoke",
            target_type="api_token",
            target_id=token.id,
        )
    return token


def authenticate(session: Session, secret: str, *, now: datetime | None = None) -> User | None:
    """The active owner of an unrevoked, unexpired token, or None; notes when the token was last
    used."""
    found = authenticate_token(session, secret, now=now)
    return found[1] if found else None


def authenticate_token(
    session: Session, secret: str, *, now: datetime | None = None
) -> tuple[ApiToken, User] | None:
    """The unrevoked, unexpired token and its active owner, or None; notes the last use."""
    if not secret.startswith(PREFIX):
        return None
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(secret), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row[1].active:
        return None
    token, user = row
    now = now or datetime.now(UTC)
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        token.last_used_at = now
        session.flush()
    return token, user
