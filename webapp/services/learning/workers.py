"""Grading workers' heartbeats: each worker process says every few seconds that it is alive, so
readiness checks and the admin's Grading page can tell a working grader from a dead one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from webapp.db import Session
from webapp.models import GradingWorker
from webapp.services.rows import labelled, row_into

BEAT_S = 10.0  # how often a worker says it is alive
STALE_AFTER = timedelta(seconds=60)  # a worker silent this long is taken for dead
FORGET_AFTER = timedelta(days=1)  # a dead worker's row is dropped after this


@dataclass(frozen=True)
class WorkerRow:
    id: str
    host: str
    pid: int
    sandbox: str
    threads: int
    started_at: datetime
    seen_at: datetime
    stale: bool  # silent for longer than STALE_AFTER: stopped, or cannot reach the database


def beat(
    session: Session,
    *,
    worker_id: str,
    host: str,
    pid: int,
    sandbox: str,
    threads: int,
    started_at: datetime,
    now: datetime,
) -> None:
    """Record that this worker is alive (one upsert), and forget workers long dead."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = insert(GradingWorker).values(
        id=worker_id,
        host=host[:120],
        pid=pid,
        sandbox=sandbox[:32],
        threads=threads,
        started_at=started_at,
        seen_at=now,
    )
    session.execute(
        values.on_conflict_do_update(index_elements=[GradingWorker.id], set_={"seen_at": now})
    )
    session.execute(delete(GradingWorker).where(GradingWorker.seen_at < now - FORGET_AFTER))


def stopped(session: Session, worker_id: str) -> None:
    """The worker stopped cleanly: it is no longer listed."""
    session.execute(delete(GradingWorker).where(GradingWorker.id == worker_id))


def workers(session: Session, *, now: datetime) -> list[WorkerRow]:
    """Every worker heard from in the last day, the most recently heard first."""
    rows = session.execute(
        select(
            *labelled(
                WorkerRow,
                omit=("stale",),
                id=GradingWorker.id,
                host=GradingWorker.host,
                pid=GradingWorker.pid,
                sandbox=GradingWorker.sandbox,
                threads=GradingWorker.threads,
                started_at=GradingWorker.started_at,
                seen_at=GradingWorker.seen_at,
            )
        ).order_by(GradingWorker.seen_at.desc())
    )
    return [row_into(WorkerRow, r, stale=now - r.seen_at > STALE_AFTER) for r in rows]


def live(session: Session, *, now: datetime) -> int:
    """How many workers said they were alive within STALE_AFTER."""
    return len([w for w in workers(session, now=now) if not w.stale])
