"""The audit log: who changed what, appended by the services that make the change."""

from __future__ import annotations

from typing import Any

from webapp.db import Session
from webapp.models import AuditEvent, User


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: int | None,
    **detail: Any,
) -> AuditEvent:
    """Append one audit event in the caller's transaction."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
    )
    session.add(event)
    return event
