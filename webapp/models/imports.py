"""CSV imports as stored jobs: the uploaded file, its check (a preview, or every problem by row
and column) and its application, run by a worker off the request thread."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from webapp.db import db
from webapp.models._types import UTCDateTime, utcnow


class ImportStatus(enum.StrEnum):
    CHECKING = "checking"  # queued or being checked
    REFUSED = "refused"  # problems found: nothing will be written
    READY = "ready"  # checked, the preview waits for the admin's go
    IMPORTING = "importing"  # queued or being written
    DONE = "done"
    FAILED = "failed"  # the machinery failed (the log has why); nothing was written
    DISCARDED = "discarded"


IMPORT_STATUS_VALUES = tuple(s.value for s in ImportStatus)
IMPORT_PENDING = (ImportStatus.CHECKING.value, ImportStatus.IMPORTING.value)
IMPORT_KINDS = ("roster", "projects", "requirements", "assignments", "profiles")


class ImportRun(db.Model):  # type: ignore[name-defined,misc]
    """One uploaded CSV file on its way in: checked, previewed, then applied whole or not at all."""

    __tablename__ = "import_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {IMPORT_STATUS_VALUES!r}", name="status_known"),
        CheckConstraint(f"kind IN {IMPORT_KINDS!r}", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    status: Mapped[str] = mapped_column(String(12), default=ImportStatus.CHECKING.value, index=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)  # data rows in the file
    done_rows: Mapped[int] = mapped_column(Integer, default=0)  # progress of the current step
    step: Mapped[str] = mapped_column(String(80), default="")  # what the worker is doing
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [line, column, message]
    problem_count: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_ids: Mapped[list[int]] = deferred(
        mapped_column(JSON, default=list, nullable=False)
    )  # new accounts
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the current step's
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
