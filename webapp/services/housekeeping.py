"""Housekeeping: what the app keeps only for a while, pruned by a daily job (and
``skillforge housekeeping``), so the database and the render cache stop growing for ever.

- **Practice runs** ("Run tests", never counted) older than ``practice_days``, with their results.
  Submitted attempts are never pruned: they are the evidence.
- **Sign-in sessions** that ended or expired more than ``sessions_days`` ago (the *Sessions* page
  lists recent ones), and login throttles with no failure for as long.
- **CSV imports** (the uploaded files, their previews and invitation lists) finished more than
  ``imports_days`` ago.
- **Rendered notebooks** in the render cache not used for ``render_days`` (a page's render is
  made again the next time it is asked for), and leftovers of renders that died (temporary
  files and "too large" markers of a renderer version no longer in use).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Subquery, delete, func, or_, select

from webapp.db import Session
from webapp.models import (
    IMPORT_PENDING,
    ImportRun,
    LoginThrottle,
    Submission,
    SubmissionMode,
    SubmissionStatus,
    UserSession,
)
from webapp.services.rows import chunks
from webapp.services.words import count

DONE = (SubmissionStatus.GRADED.value, SubmissionStatus.ERROR.value)


@dataclass(frozen=True)
class Retention:
    """RETENTION_* settings, in days; 0 keeps that kind for ever."""

    practice_days: int = 90
    sessions_days: int = 30
    render_days: int = 30
    imports_days: int = 30


@dataclass(frozen=True)
class Pruned:
    practice_runs: int = 0
    sessions: int = 0
    throttles: int = 0
    render_files: int = 0
    render_bytes: int = 0
    imports: int = 0

    def describe(self) -> str:
        return (
            f"Removed {count(self.practice_runs, 'practice run')}, "
            f"{count(self.sessions, 'ended sign-in session')}, "
            f"{count(self.throttles, 'old login throttle')}, "
            f"{count(self.imports, 'finished CSV import')} and "
            f"{count(self.render_files, 'rendered notebook file')} "
            f"({self.render_bytes / 1e6:.1f} MB)."
        )


def prune_database(
    session: Session, retention: Retention, *, now: datetime, dry_run: bool = False
) -> Pruned:
    """Delete what ``retention`` no longer keeps (or, with ``dry_run``, only count it)."""
    practice = (
        select(Submission.id).where(
            Submission.mode == SubmissionMode.CHECK.value,
            Submission.status.in_(DONE),
            Submission.submitted_at < now - timedelta(days=retention.practice_days),
        )
        if retention.practice_days
        else None
    )
    ended = (
        or_(
            UserSession.ended_at < now - timedelta(days=retention.sessions_days),
            UserSession.expires_at < now - timedelta(days=retention.sessions_days),
        )
        if retention.sessions_days
        else None
    )
    quiet = (
        LoginThrottle.last_failure_at < now - timedelta(days=retention.sessions_days)
        if retention.sessions_days
        else None
    )
    imported = (
        ImportRun.created_at < now - timedelta(days=retention.imports_days)
        if retention.imports_days
        else None
    )
    finished = ImportRun.status.not_in(IMPORT_PENDING)
    counts = {
        "imports": _count(session, select(ImportRun.id).where(imported, finished).subquery())
        if imported is not None
        else 0,
        "practice_runs": _count(session, practice.subquery()) if practice is not None else 0,
        "sessions": _count(session, select(UserSession.id).where(ended).subquery())
        if ended is not None
        else 0,
        "throttles": _count(session, select(LoginThrottle.id).where(quiet).subquery())
        if quiet is not None
        else 0,
    }
    if not dry_run:
        if practice is not None and counts["practice_runs"]:
            # Their exercise results go with them (ON DELETE CASCADE, and the ORM's cascade).
            for chunk in chunks(list(session.scalars(practice))):
                doomed = session.scalars(select(Submission).where(Submission.id.in_(chunk)))
                for submission in doomed:
                    session.delete(submission)
                session.flush()
        if ended is not None:
            session.execute(delete(UserSession).where(ended))
        if quiet is not None:
            session.execute(delete(LoginThrottle).where(quiet))
        if imported is not None:
            session.execute(delete(ImportRun).where(imported, finished))
        session.flush()
    return Pruned(**counts)


def _count(session: Session, rows: Subquery) -> int:
    return int(session.scalar(select(func.count()).select_from(rows)) or 0)


def prune_render_cache(
    cache_dir: Path, retention: Retention, *, renderer_version: str, dry_run: bool = False
) -> Pruned:
    """Remove rendered notebooks not used for ``render_days`` (a read from disk refreshes a
    file's time once a day, see ``rendering.cached_notebook_html``), temporary files and locks
    of renders over an hour old, and every file of other renderer versions (never read again)."""
    if not cache_dir.is_dir():
        return Pruned()
    cutoff = time.time() - retention.render_days * 86400 if retention.render_days else None
    an_hour_ago = time.time() - 3600
    files = size = 0
    suffix = f"-r{renderer_version}"
    for path in cache_dir.iterdir():
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if not path.is_file():
            continue
        name = path.name
        if name.endswith((".tmp", ".lock")):  # a render's own, held for seconds at most
            stale = stat.st_mtime < an_hour_ago
        else:
            stem = name.rsplit(".", 1)[0]
            stale = not stem.endswith(suffix) or (cutoff is not None and stat.st_mtime < cutoff)
        if not stale:
            continue
        files += 1
        size += stat.st_size
        if not dry_run:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    return Pruned(render_files=files, render_bytes=size)
