"""Live kernels: which engineer's notebook runs on which kernel host, as the hosts know it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import db
from webapp.models._types import UTCDateTime, utcnow


class LiveKernel(db.Model):  # type: ignore[name-defined,misc]
    """One engineer's kernel for one notebook. The row is the binding: every request finds the
    kernel by (engineer, notebook), so no one can name another engineer's kernel."""

    __tablename__ = "live_kernels"
    __table_args__ = (
        UniqueConstraint("user_id", "notebook_id"),
        Index("ix_live_kernels_host", "host"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notebook_id: Mapped[int] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(200))
    kernel_id: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
