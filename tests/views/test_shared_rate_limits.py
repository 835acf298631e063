"""Rate limits without Redis hold across processes: the counters live in one SQLite file every
process of the machine shares (two gunicorn workers used to let twice the limit through)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import AuthActions, FreshContextClient, Org, app_config, csrf_token
from tests.factories import fixture_catalog
from webapp import create_app
from webapp.db import db as _db
from webapp.web.ratelimit_store import SharedSqliteStorage, uri_for


def test_counters_count_up_expire_and_clear(tmp_path: Path) -> None:
    store = SharedSqliteStorage(uri_for(tmp_path / "limits.sqlite3"))
    assert store.check()
    assert [store.incr("k", expiry=60) for _ in range(3)] == [1, 2, 3]
    assert store.get("k") == 3 and store.get_expiry("k") > time.time() + 50
    assert store.incr("short", expiry=1) == 1
    time.sleep(1.1)
    assert store.get("short") == 0
    assert store.incr("short", expiry=60) == 1  # a new window starts at one
    store.clear("k")
    assert store.get("k") == 0
    other = SharedSqliteStorage(uri_for(tmp_path / "limits.sqlite3"))  # another process's view
    assert other.incr("short", expiry=60) == 2


@pytest.fixture()
def two_processes(app: Flask, db: object, tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    """Two apps like two gunicorn workers: one database, one rate-limit file, no Redis."""
    store = uri_for(tmp_path / "ratelimits.sqlite3")
    config = app_config(
        app.config["SQLALCHEMY_DATABASE_URI"],
        AUTOSAVE_RATE_LIMIT="3 per minute",
        RATELIMIT_STORAGE_URI=store,
    )
    apps = (create_app(config), create_app(config))
    yield apps
    for each in apps:
        with each.app_context():
            _db.session.remove()
            _db.engine.dispose()


def test_a_limit_holds_across_two_worker_processes(
    two_processes: tuple[Flask, Flask], org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    _db.session.commit()
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    codes = []
    browsers = []
    for each in two_processes:
        browser = FreshContextClient(each, each.response_class, use_cookies=True)
        AuthActions(browser).login(org.engineer.email)
        browsers.append((browser, csrf_token(browser, page)))
    for browser, token in (*browsers, *browsers):  # alternately on each process
        answer = browser.post(f"{page}/draft", json={}, headers={"X-CSRFToken": token})
        codes.append(answer.status_code)
    assert codes == [200, 200, 200, 429]  # before: [200] * 4, each process counting its own
