"""Redis away (#14): logins and pages keep working (rate limits fall back to memory), a submit
is stored and answered, and its grading job is queued once Redis is back.

The test starts and stops a Redis server of its own; the rest of the suite's Redis is not
touched."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import time_machine
from flask import Flask
from sqlalchemy import select

from tests.conftest import AuthActions, FreshContextClient, Org, app_config, csrf_token, free_port
from tests.factories import fixture_catalog
from webapp import create_app, jobs
from webapp.db import db as _db
from webapp.extensions import limiter, queue
from webapp.models import Submission

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


class OwnRedis:
    """A redis-server on a free port, stopped and started again by the test."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture()
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.stop()


@pytest.fixture()
def redis_app(app: Flask, db: object, own_redis: OwnRedis) -> Iterator[Flask]:
    """The app as deployed with REDIS_URL: rate limits and the job queue in Redis."""
    url = own_redis.url
    other = create_app(
        app_config(app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=url, QUEUE_URL=url)
    )
    assert other.config["RATELIMIT_STORAGE_URI"] == url
    jobs.configure_queue(other)
    yield other
    jobs.configure_queue(app)  # the suite's queue and in-memory rate limits again
    limiter.init_app(app)
    with other.app_context():
        _db.session.remove()
        _db.engine.dispose()  # its own pool: closed now, not by the garbage collector later


def test_logins_pages_and_submits_work_while_redis_is_away(
    redis_app: Flask, own_redis: OwnRedis, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    answers = {"impl_mean": "def mean(xs):\n    return sum(xs) / len(xs)"}
    browser = FreshContextClient(redis_app, redis_app.response_class, use_cookies=True)
    assert AuthActions(browser).login(org.engineer.email).status_code == 302
    wrong = AuthActions(browser).login(org.teammate.email, "not the password")
    assert wrong.status_code == 200  # the form again, and a failed attempt counted in Redis
    assert redis.Redis.from_url(own_redis.url).dbsize() > 0

    own_redis.stop()
    other = FreshContextClient(redis_app, redis_app.response_class, use_cookies=True)
    assert AuthActions(other).login(org.teammate.email, "not the password").status_code == 200
    assert AuthActions(other).login(org.teammate.email).status_code == 302
    assert other.get("/").status_code == 200
    form = {
        "csrf_token": csrf_token(browser, page),
        "mode": "final",
        "answers": json.dumps(answers),
    }
    response = browser.post(f"{page}/submit", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert "The job queue cannot be reached just now" in response.get_data(as_text=True)
    stored = _db.session.scalars(select(Submission)).all()
    assert [(s.user_id, s.status) for s in stored] == [(org.engineer.id, "queued")]

    own_redis.start()  # an empty Redis, as after a restart: the job was never queued
    assert queue.pending_count() == 0
    with redis_app.app_context():
        assert jobs.requeue_stalled() == []  # queued moments ago: not stalled yet
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=3)):
            assert jobs.requeue_stalled() == [stored[0].id]  # the minute's recovery job
    assert queue.pending_count() == 1
    queue.flush()
