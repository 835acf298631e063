"""The outputs of worked examples: asked for when the catalog is synced, made in the grading
sandbox by a job (or ``courses outputs``), one row per notebook content hash.

A row goes queued -> running -> ready (or failed, with the reason). Making them runs the
instructor's notebook with the solutions in place and no test cell (``grading/worked.py``), so a
plot the text refers to is on the page before anything runs. A notebook's page shows the outputs
of the row for its content hash while it has any; a new content is a new row, so a changed
notebook never shows another content's outputs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import nbformat
from nbformat import NotebookNode
from sqlalchemy import CursorResult, func, or_, select, update

from webapp.db import Session
from webapp.grading import worked
from webapp.models import (
    Notebook,
    NotebookVersion,
    User,
    WorkedExamples,
    WorkedStatus,
    Workshop,
)
from webapp.services import audit
from webapp.services.words import count

log = logging.getLogger(__name__)


class Runner(Protocol):
    """What making outputs needs of the grader (``webapp.grading.autograde.Grader`` is one)."""

    def run_notebook(
        self, nb: NotebookNode, *, data_dir: Path | None = None
    ) -> tuple[NotebookNode, Any]: ...


@dataclass(frozen=True)
class Shown:
    """What a notebook page needs: the status, and a key naming the outputs it may show."""

    status: str
    outputs_key: str | None  # changes whenever the outputs do; None when there are none to show
    error: str | None


def request(
    session: Session, content_hashes: Iterable[str], *, now: datetime, again: bool = False
) -> list[str]:
    """Queue the outputs of these notebook contents: each one that has no row yet, and with
    ``again`` every one not being made right now. Returns the hashes queued."""
    hashes = sorted(set(content_hashes))
    rows = {
        row.content_hash: row
        for row in session.scalars(
            select(WorkedExamples).where(WorkedExamples.content_hash.in_(hashes))
        )
    }
    queued = []
    for content_hash in hashes:
        row = rows.get(content_hash)
        if row is None:
            session.add(WorkedExamples(content_hash=content_hash, requested_at=now))
        elif again and row.status != WorkedStatus.RUNNING.value:
            row.status, row.requested_at = WorkedStatus.QUEUED.value, now
        else:
            continue
        queued.append(content_hash)
    session.flush()
    return queued


def make_again(session: Session, *, actor: User, now: datetime) -> list[str]:
    """Queue every live notebook's outputs again (an admin's button), audited; the hashes."""
    queued = request(session, current_hashes(session), now=now, again=True)
    audit.record(
        session,
        actor=actor,
        action="catalog.worked_examples",
        target_type="catalog",
        target_id=None,
        summary=f"Asked for the worked examples' outputs of {count(len(queued), 'notebook')}.",
    )
    return queued


def current_hashes(session: Session, *, slugs: Iterable[str] | None = None) -> list[str]:
    """The content hashes of the live notebooks (of these workshops only, when given)."""
    query = (
        select(Notebook.current_hash)
        .join(Workshop, Workshop.id == Notebook.workshop_id)
        .where(Notebook.archived.is_(False), Workshop.archived.is_(False))
    )
    if slugs is not None:
        query = query.where(Workshop.slug.in_(list(slugs)))
    return sorted(set(session.scalars(query)))


def claim_next(
    session: Session, *, now: datetime, lease: timedelta, among: Iterable[str] | None = None
) -> str | None:
    """Take the oldest queued content (or one whose maker died past ``lease``) for this worker,
    of ``among`` only when given; None when there is nothing to make. The caller commits before
    the slow part."""
    waiting = or_(
        WorkedExamples.status == WorkedStatus.QUEUED.value,
        (WorkedExamples.status == WorkedStatus.RUNNING.value)
        & (WorkedExamples.started_at < now - lease),
    )
    query = select(WorkedExamples.id, WorkedExamples.content_hash).where(waiting)
    if among is not None:
        query = query.where(WorkedExamples.content_hash.in_(list(among)))
    for row_id, content_hash in session.execute(
        query.order_by(WorkedExamples.requested_at, WorkedExamples.id).limit(5)
    ).all():
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # an UPDATE
            update(WorkedExamples)
            .where(WorkedExamples.id == row_id, waiting)
            .values(status=WorkedStatus.RUNNING.value, started_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            return str(content_hash)
    return None


def pending(session: Session, *, among: Iterable[str] | None = None) -> tuple[int, int]:
    """How many contents (of ``among`` only, when given) wait for their outputs, and how many
    are being made now."""
    query = select(WorkedExamples.status, func.count(WorkedExamples.id)).where(
        WorkedExamples.status.in_([WorkedStatus.QUEUED.value, WorkedStatus.RUNNING.value])
    )
    if among is not None:
        query = query.where(WorkedExamples.content_hash.in_(list(among)))
    rows = dict(session.execute(query.group_by(WorkedExamples.status)).all())
    return rows.get(WorkedStatus.QUEUED.value, 0), rows.get(WorkedStatus.RUNNING.value, 0)


def make(
    session: Session,
    content_hash: str,
    runner: Runner,
    *,
    courses_path: Path,
    max_bytes: int,
    now: Callable[[], datetime],
    commit: Callable[[], None],
) -> WorkedExamples:
    """Run a claimed content's worked examples and store their outputs.

    Running takes seconds to minutes, so like grading this ends the transaction before it
    (``commit`` is the caller's); the outputs are flushed, not committed. They are kept only when
    they fit in ``max_bytes``. A runner that fails is recorded as the reason, committed, and
    raised again (so the queue logs it)."""
    row = _row(session, content_hash)
    version = session.scalars(
        select(NotebookVersion).where(NotebookVersion.content_hash == content_hash).limit(1)
    ).first()
    if version is None:
        return _fail(row, "No notebook has this content any more.", now())
    source = nbformat.from_dict(version.source)
    data_dir = _data_dir(session, version.notebook_id, courses_path)
    commit()  # no transaction stays open while the notebook runs
    started = now()
    try:
        executed, _run = runner.run_notebook(worked.example_run(source), data_dir=data_dir)
    except Exception as exc:
        _fail(_row(session, content_hash), f"The sandbox could not run the notebook: {exc}", now())
        commit()
        raise
    found = worked.collect(executed, source)
    row = _row(session, content_hash)
    finished = now()
    row.duration_s = (finished - started).total_seconds()
    if found.size > max_bytes:
        return _fail(
            row,
            f"The outputs take {_megabytes(found.size)}, more than the {_megabytes(max_bytes)} "
            "a page may carry: draw smaller plots (fewer points, a lower dpi) or keep a cell's "
            'outputs back with the metadata "skillforge": {"show_outputs": false}.',
            finished,
        )
    row.outputs, row.errors, row.size = found.to_json(), list(found.errors), found.size
    row.status, row.error, row.finished_at = WorkedStatus.READY.value, None, finished
    session.flush()
    if found.errors:
        log.warning("worked examples of %s raised: %s", content_hash, "; ".join(found.errors))
    return row


def shown(session: Session, content_hash: str) -> Shown:
    """What the notebook page of this content shows (no outputs are loaded: see ``outputs``)."""
    row = session.execute(
        select(WorkedExamples.status, WorkedExamples.finished_at, WorkedExamples.error).where(
            WorkedExamples.content_hash == content_hash
        )
    ).first()
    if row is None:
        return Shown(WorkedStatus.QUEUED.value, None, None)
    status, finished_at, error = row
    key = None
    if finished_at is not None and status != WorkedStatus.FAILED.value:
        stamp = f"{content_hash}-{finished_at.isoformat()}".encode()
        key = hashlib.sha256(stamp).hexdigest()[:16]
    return Shown(status, key, error)


def outputs(session: Session, content_hash: str) -> dict[str, Any]:
    """The stored outputs by cell index ("3": [...]); empty when there are none to show."""
    row = session.execute(
        select(WorkedExamples.status, WorkedExamples.outputs).where(
            WorkedExamples.content_hash == content_hash
        )
    ).first()
    if row is None or row[0] == WorkedStatus.FAILED.value:
        return {}
    return dict(row[1] or {})


def student_with_outputs(
    session: Session, content_hash: str, student: dict[str, Any]
) -> dict[str, Any]:
    """The student version with its worked examples' outputs in place (when there are any)."""
    found = outputs(session, content_hash)
    return worked.with_outputs(student, found) if found else student


@dataclass(frozen=True)
class NotebookOutputs:
    """One live notebook's outputs on the admin catalog page."""

    workshop: str
    filename: str
    status: str
    size: int
    duration_s: float | None
    finished_at: datetime | None
    error: str | None
    errors: list[str]

    @property
    def summary(self) -> str:
        if self.status == WorkedStatus.FAILED.value:
            return f"Failed: {self.error}"
        if self.status == WorkedStatus.QUEUED.value:
            return "Waiting for a grading worker."
        if self.status == WorkedStatus.RUNNING.value:
            return "Being made now."
        made = f"Made in {self.duration_s or 0:.1f} s, {_megabytes(self.size)}."
        if self.errors:
            made += f" {count(len(self.errors), 'worked example')} raised: " + "; ".join(
                self.errors
            )
        return made


def overview(session: Session) -> list[NotebookOutputs]:
    """Every live notebook's outputs, by workshop and notebook (a notebook without a row yet is
    shown as queued: the next sync or "Make them again" asks for it)."""
    query = (
        select(
            Workshop.slug,
            Notebook.filename,
            WorkedExamples.status,
            WorkedExamples.size,
            WorkedExamples.duration_s,
            WorkedExamples.finished_at,
            WorkedExamples.error,
            WorkedExamples.errors,
        )
        .select_from(Notebook)
        .join(Workshop, Workshop.id == Notebook.workshop_id)
        .outerjoin(WorkedExamples, WorkedExamples.content_hash == Notebook.current_hash)
        .where(Notebook.archived.is_(False), Workshop.archived.is_(False))
        .order_by(Workshop.slug, Notebook.position, Notebook.filename)
    )
    return [
        NotebookOutputs(
            workshop=slug,
            filename=filename,
            status=status or WorkedStatus.QUEUED.value,
            size=size or 0,
            duration_s=duration_s,
            finished_at=finished_at,
            error=error,
            errors=list(errors or []),
        )
        for slug, filename, status, size, duration_s, finished_at, error, errors in session.execute(
            query
        )
    ]


def notebook_name(session: Session, content_hash: str) -> str:
    """ "workshop/notebook.ipynb" of a content (its first notebook), for messages."""
    row = session.execute(
        select(Workshop.slug, Notebook.filename)
        .join(Notebook, Notebook.workshop_id == Workshop.id)
        .join(NotebookVersion, NotebookVersion.notebook_id == Notebook.id)
        .where(NotebookVersion.content_hash == content_hash)
        .limit(1)
    ).first()
    return f"{row[0]}/{row[1]}" if row else content_hash[:12]


def _row(session: Session, content_hash: str) -> WorkedExamples:
    return session.scalars(
        select(WorkedExamples).where(WorkedExamples.content_hash == content_hash)
    ).one()


def _fail(row: WorkedExamples, reason: str, when: datetime) -> WorkedExamples:
    row.status, row.error, row.finished_at = WorkedStatus.FAILED.value, reason, when
    row.outputs, row.errors, row.size = {}, [], 0
    return row


def _data_dir(session: Session, notebook_id: int, courses_path: Path) -> Path | None:
    """The workshop's folder on disk, whose data files the notebook may read."""
    slug = session.scalar(
        select(Workshop.slug)
        .join(Notebook, Notebook.workshop_id == Workshop.id)
        .where(Notebook.id == notebook_id)
    )
    folder = courses_path / slug if slug else None
    return folder if folder is not None and folder.is_dir() else None


def _megabytes(size: int) -> str:
    if size < 100_000:
        return f"{size / 1000:.0f} kB"
    return f"{size / 1_000_000:.1f} MB"
