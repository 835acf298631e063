"""CSV imports as stored jobs: upload, check (a preview, or every problem by row and column,
nothing written), confirm, apply (one short transaction), each step run by a grading worker so
no web request reads or writes a large file.

``start`` stores the file (status *checking*); the worker's ``check`` stores the problems
(*refused*) or the preview (*ready*); ``confirm`` (the admin's or manager's go) makes it
*importing*; the worker's ``apply`` checks the file again against the data as it is now and
writes it (*done*, with the new accounts to invite), or refuses it if something changed meanwhile.
Roster files are admins'; staffing files (projects, requirements, assignments, profiles) are
their uploader's, within the teams they manage, as the synchronous import always was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from webapp.db import Session
from webapp.models import IMPORT_KINDS, ImportRun, ImportStatus, User
from webapp.services.access import policy
from webapp.services.errors import Conflict, DomainError, InvalidInput, NotFound
from webapp.services.people import roster
from webapp.services.staffing import csv_io
from webapp.services.words import count

log = logging.getLogger(__name__)

STAFFING_KINDS = csv_io.KINDS
MAX_PROBLEMS = roster.MAX_PROBLEMS
FAILED = (
    "The import could not be finished, and nothing of it was written. Upload the file again; "
    "if it fails again, tell an admin (the worker's log has the details)."
)


def start(session: Session, *, kind: str, data: bytes, filename: str, actor: User) -> ImportRun:
    """Store an uploaded file for checking; the caller commits and queues ``check``."""
    if kind not in IMPORT_KINDS:
        raise InvalidInput(f"Unknown kind of file '{kind}'; use one of {', '.join(IMPORT_KINDS)}.")
    if kind == "roster":
        policy.require_admin(actor)
    if not data.strip():
        raise InvalidInput("The file is empty: choose the CSV file to import.")
    run = ImportRun(
        kind=kind,
        actor_id=actor.id,
        filename=filename[:200],
        data=data,
        status=ImportStatus.CHECKING.value,
        step="Waiting for a worker",
    )
    session.add(run)
    session.flush()
    return run


def get_for_viewer(session: Session, run_id: int, *, viewer: User) -> ImportRun:
    """The import, if the viewer may see it: admins see every import, others their own."""
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound("There is no such import.")
    if not policy.is_admin(viewer) and run.actor_id != viewer.id:
        raise NotFound("There is no such import.")
    return run


def recent(
    session: Session, *, kinds: tuple[str, ...], viewer: User, limit: int = 20
) -> list[ImportRun]:
    query = select(ImportRun).where(ImportRun.kind.in_(kinds)).order_by(ImportRun.id.desc())
    if not policy.is_admin(viewer):
        query = query.where(ImportRun.actor_id == viewer.id)
    return list(session.scalars(query.limit(limit)))


def _claim(
    session: Session, run_id: int, status: str, *, now: datetime, lease: timedelta
) -> ImportRun | None:
    """Take a waiting step (or one whose worker was lost) for this worker."""
    taken = session.execute(
        update(ImportRun)
        .where(
            ImportRun.id == run_id,
            ImportRun.status == status,
            or_(ImportRun.started_at.is_(None), ImportRun.started_at < now - lease),
        )
        .values(started_at=now, done_rows=0)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not taken:
        return None
    run = session.get(ImportRun, run_id)
    if run is not None:
        session.refresh(run)
    return run


def check(
    session: Session,
    run_id: int,
    *,
    now: Callable[[], datetime],
    lease: timedelta,
    commit: Callable[[], None],
) -> ImportRun | None:
    """Check a stored file: its problems (nothing will be written) or its preview. None when the
    run was not waiting for a check (another worker has it, or it moved on)."""
    run = _claim(session, run_id, ImportStatus.CHECKING.value, now=now(), lease=lease)
    if run is None:
        return None
    run.step = "Reading and checking every row"
    commit()
    actor = session.get(User, run.actor_id) if run.actor_id else None
    try:
        if actor is None:
            raise InvalidInput("The person who uploaded the file no longer exists.")
        problems, summary, sample, rows = _examine(session, run, actor, commit)
    except DomainError as exc:
        return _ended(session, run_id, exc, now(), commit)
    except Exception as exc:
        log.exception("checking import %s failed", run_id)
        return _ended(session, run_id, exc, now(), commit)
    run.rows = rows
    if problems:
        _refuse(run, problems[:MAX_PROBLEMS], len(problems), now())
    else:
        run.status, run.step = ImportStatus.READY.value, ""
        run.summary = {**summary, "sample": sample}
        run.checked_at, run.started_at = now(), None
    commit()
    return run


def _examine(
    session: Session, run: ImportRun, actor: User, commit: Callable[[], None]
) -> tuple[list[tuple[int, str, str]], dict[str, Any], list[Any], int]:
    """(problems, summary, sample, rows) of the run's file, against the data as it is now."""
    if run.kind == "roster":

        def progress(n: int) -> None:
            run.done_rows += n
            if run.done_rows % 20000 < n:  # now and then, in a short transaction of its own
                commit()

        rows, problems = roster.check_roster(run.data, progress=progress)
        found = [(p.line, p.column, p.message) for p in problems]
        if found:
            return found, {}, [], len(rows) + len({p.line for p in problems})
        plan = roster.plan_roster(session, rows)
        return [], plan.summary, [list(s) for s in plan.sample], len(rows)
    ops, errors = csv_io.check_csv(session, run.data, run.kind, actor=actor)
    found = [(line, "", message) for line, message in errors]
    sample = [[line, "", ""] for line, _ in ops[: roster.SAMPLE]]
    return found, {"rows": len(ops)}, sample if not found else [], len(ops) + len(errors)


def _ended(
    session: Session,
    run_id: int,
    exc: Exception,
    at: datetime,
    commit: Callable[[], None],
) -> ImportRun:
    """After a step that raised, with its writes rolled back: refused (the file or the data, in
    the exception's words and rows) or failed (the machinery: a plain message; the log has it)."""
    session.rollback()
    run = session.get(ImportRun, run_id)
    assert run is not None
    if isinstance(exc, DomainError):
        rows = getattr(exc, "errors", None)
        listed = [(line, "", text) for line, text in rows] if rows else [(1, "", exc.message)]
        _refuse(run, listed[:MAX_PROBLEMS], len(listed), at)
    else:
        run.status, run.error, run.finished_at, run.step = ImportStatus.FAILED.value, FAILED, at, ""
    commit()
    return run


def _refuse(run: ImportRun, problems: list[tuple[int, str, str]], total: int, at: datetime) -> None:
    run.status, run.step = ImportStatus.REFUSED.value, ""
    run.problems = [list(p) for p in problems]
    run.problem_count = total
    run.checked_at = run.finished_at = at
    run.started_at = None


def confirm(session: Session, run_id: int, *, viewer: User) -> ImportRun:
    """The go for a previewed import; the caller commits and queues ``apply``."""
    run = get_for_viewer(session, run_id, viewer=viewer)
    if run.status != ImportStatus.READY.value:
        raise Conflict(f"This import is {run.status}, not waiting for your go.")
    run.status, run.step, run.started_at = (
        ImportStatus.IMPORTING.value,
        "Waiting for a worker",
        None,
    )
    session.flush()
    return run


def discard(session: Session, run_id: int, *, viewer: User) -> ImportRun:
    run = get_for_viewer(session, run_id, viewer=viewer)
    if run.status not in (ImportStatus.READY.value, ImportStatus.REFUSED.value):
        raise Conflict(f"This import is {run.status}: it cannot be discarded now.")
    run.status, run.step = ImportStatus.DISCARDED.value, ""
    session.flush()
    return run


def apply(
    session: Session,
    run_id: int,
    *,
    now: Callable[[], datetime],
    lease: timedelta,
    commit: Callable[[], None],
) -> ImportRun | None:
    """Write a confirmed import in one transaction; None when it was not waiting for that."""
    run = _claim(session, run_id, ImportStatus.IMPORTING.value, now=now(), lease=lease)
    if run is None:
        return None
    run.step = f"Writing {count(run.rows, 'row')}"
    commit()
    actor = session.get(User, run.actor_id) if run.actor_id else None
    try:
        if actor is None:
            raise InvalidInput("The person who uploaded the file no longer exists.")
        summary, created = _write(session, run, actor, now())
    except DomainError as exc:  # the data changed since the preview: nothing is written
        return _ended(session, run_id, exc, now(), commit)
    except Exception as exc:
        log.exception("applying import %s failed", run_id)
        return _ended(session, run_id, exc, now(), commit)
    run.status, run.step, run.done_rows = ImportStatus.DONE.value, "", run.rows
    run.summary = {**summary, "sample": run.summary.get("sample", [])}
    run.created_ids = created
    run.finished_at, run.started_at = now(), None
    commit()
    return run


def _write(
    session: Session, run: ImportRun, actor: User, at: datetime
) -> tuple[dict[str, Any], list[int]]:
    if run.kind == "roster":
        result = roster.import_roster(session, run.data, actor=actor, now=at)
        return result.summary, result.created_ids
    done = csv_io.import_csv(session, run.data, run.kind, actor=actor)
    return {"rows": done.rows}, []


def hand_back(session: Session, run_id: int) -> bool:
    """A step whose worker is stopping goes back to waiting (its writes were rolled back);
    False when it is not running any more."""
    result = session.execute(
        update(ImportRun)
        .where(
            ImportRun.id == run_id,
            ImportRun.status.in_([ImportStatus.CHECKING.value, ImportStatus.IMPORTING.value]),
            ImportRun.started_at.is_not(None),
        )
        .values(started_at=None, done_rows=0)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def stalled(
    session: Session, *, now: datetime, lease: timedelta, queued_for: timedelta
) -> list[tuple[int, str]]:
    """Steps whose job was lost: waiting longer than ``queued_for``, or running past the lease."""
    rows = session.execute(
        select(ImportRun.id, ImportRun.status).where(
            ImportRun.status.in_([ImportStatus.CHECKING.value, ImportStatus.IMPORTING.value]),
            or_(
                (ImportRun.started_at.is_(None)) & (ImportRun.created_at < now - queued_for),
                ImportRun.started_at < now - lease,
            ),
        )
    )
    return [(i, s) for i, s in rows]
