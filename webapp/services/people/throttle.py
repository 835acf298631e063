"""Login throttling with exponential back-off, per account and per client, in the database
(so every server process sees the same counts, on SQLite and PostgreSQL alike).

After ``free`` failures in a row, a key (an account or a client address) waits 1 s, then 2, 4, …
up to ``max_delay_s`` before its next attempt is even checked; a success clears the account's
count and the client's. A browser that has logged in to an account before carries a signed
device cookie for it (OWASP's device cookies), and is not held back by that account's count:
so failures from elsewhere slow down guessing without locking the real person out, while a
guesser spreading attempts over many addresses still meets the account's delay. The right
password works from a throttled address as soon as its delay has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from webapp.db import Session
from webapp.models import LoginThrottle


@dataclass(frozen=True)
class Policy:
    free: int = 5  # failures in a row before any delay
    base_delay_s: float = 1.0
    max_delay_s: float = 900.0
    forget_after: timedelta = timedelta(hours=24)  # a count this old starts again


def account_key(email: str) -> str:
    return f"account:{email.strip().lower()[:300]}"


def client_key(address: str) -> str:
    return f"client:{address[:300]}"


def wait_s(session: Session, keys: Sequence[str], *, now: datetime) -> float:
    """Seconds until every key may try again (0: go ahead)."""
    if not keys:
        return 0.0
    until = session.scalars(
        select(LoginThrottle.blocked_until).where(
            LoginThrottle.key.in_(list(keys)), LoginThrottle.blocked_until > now
        )
    ).all()
    return max(((u - now).total_seconds() for u in until if u is not None), default=0.0)


def failed(session: Session, keys: Sequence[str], *, now: datetime, policy: Policy) -> None:
    """Count a failed attempt against each key and set its next delay."""
    rows = {
        r.key: r
        for r in session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(list(keys))))
    }
    for key in keys:
        row = rows.get(key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_at=now)
            session.add(row)
        elif now - row.last_failure_at > policy.forget_after:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        over = row.failures - policy.free
        if over > 0:
            delay = min(policy.base_delay_s * 2 ** (over - 1), policy.max_delay_s)
            row.blocked_until = now + timedelta(seconds=delay)
    session.flush()


def succeeded(session: Session, keys: Sequence[str]) -> None:
    """Forget the failures of these keys (the account and this client)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(list(keys))))
