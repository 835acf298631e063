"""Live sessions' bookkeeping that needs no kernel host: noting when a kernel was last used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.conftest import Org
from tests.factories import make_notebook_version, nbgrader_notebook
from webapp.db import db as _db
from webapp.models import LiveKernel
from webapp.services.learning import live_sessions

START = datetime(2030, 3, 4, 13, 0, 30, tzinfo=UTC)


def kernel_row(org: Org) -> LiveKernel:
    version = make_notebook_version(nbgrader_notebook("x = 1", "assert x", "assert x == 1"))
    _db.session.flush()
    row = LiveKernel(
        user_id=org.engineer.id,
        notebook_id=version.notebook_id,
        host="http://127.0.0.1:8890",
        kernel_id="k-1",
        started_at=START,
        last_used_at=START,
    )
    _db.session.add(row)
    _db.session.commit()
    return row


def stored_last_use(row_id: int) -> datetime:
    _db.session.expire_all()
    value = _db.session.scalar(select(LiveKernel.last_used_at).where(LiveKernel.id == row_id))
    assert value is not None
    return value


def test_running_cells_notes_the_kernels_use_at_most_once_a_minute(org: Org) -> None:
    row = kernel_row(org)
    soon = START + live_sessions.TOUCH_EVERY - timedelta(seconds=1)
    assert live_sessions.touch(row, START + timedelta(seconds=5)) is False
    assert live_sessions.touch(row, soon) is False
    _db.session.commit()
    assert stored_last_use(row.id) == START

    later = START + live_sessions.TOUCH_EVERY
    assert live_sessions.touch(row, later) is True
    _db.session.commit()
    assert stored_last_use(row.id) == later

    assert live_sessions.touch(row, later + timedelta(seconds=10)) is False
    much_later = later + timedelta(hours=2)
    assert live_sessions.touch(row, much_later) is True
    _db.session.commit()
    assert stored_last_use(row.id) == much_later
