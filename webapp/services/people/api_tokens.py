"""Per-user API tokens: created and shown once, stored as a SHA-256 digest, revocable.

A token is 32 random bytes (URL-safe base64) behind a recognisable ``sf_`` prefix. A digest
without salt is enough here: the token carries 256 bits of entropy, so nothing can be guessed
from a stolen table, and a plain digest can be looked up by index in one query.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from webapp.db import Session
from webapp.models import ApiToken, User
from webapp.services import audit
from webapp.services.access import policy
from webapp.services.errors import InvalidInput, NotFound

PREFIX = "sf_"
MAX_ACTIVE = 10
# Writing last_used_at on every call would turn reads into writes; once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown to its owner once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, *, actor: User, name: str) -> NewToken:
    """A new token for the actor. Raises InvalidInput for a bad name or too many tokens."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput("Name the token (at most 80 characters), e.g. after the tool using it.")
    if len(list_tokens(session, actor.id)) >= MAX_ACTIVE:
        raise InvalidInput(f"You have {MAX_ACTIVE} active tokens; revoke one you no longer use.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, token_hash=digest(secret))
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="api_token.create",
        target_type="api_token",
        target_id=token.id,
        name=name,
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
    """The active owner of an unrevoked token, or None; notes when the token was last used."""
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
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        token.last_used_at = now
        session.flush()
    return user  # type: ignore[no-any-return]
