"""Liveness and readiness, and the grading workers the admin sees: /readyz answers 503 naming
what does not answer (no grading worker, Redis away), and a silent worker is shown in red."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from tests.conftest import AuthActions, Org
from webapp.db import db as _db
from webapp.services.learning import workers


def heartbeat(pid: int, *, seconds_ago: float) -> None:
    seen = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    workers.beat(
        _db.session(),
        worker_id=f"grader-{pid}",
        host=f"grader-{pid}.internal",
        pid=pid,
        sandbox="bwrap-root",
        threads=2,
        started_at=seen - timedelta(hours=1),
        now=seen,
    )
    _db.session.commit()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns: nothing listens


def test_healthz_says_the_process_answers(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_is_unavailable_while_no_grading_worker_reports(client: FlaskClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": True, "detail": "answers"}
    assert body["checks"]["queue"]["ok"] is True
    assert body["checks"]["grading"] == {
        "ok": False,
        "detail": "no grading worker has reported in the last 60 s",
    }


def test_readyz_is_ready_with_a_worker_reporting_and_not_with_a_silent_one(
    client: FlaskClient,
) -> None:
    heartbeat(4001, seconds_ago=120)  # stopped two minutes ago
    assert client.get("/readyz").status_code == 503
    heartbeat(4002, seconds_ago=2)
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json()["checks"]["grading"] == {"ok": True, "detail": "1 worker reporting"}


def test_readyz_names_redis_when_it_is_configured_and_away(
    client: FlaskClient, override_settings: Callable[..., None]
) -> None:
    heartbeat(4003, seconds_ago=1)
    override_settings(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.get_json()["checks"]
    assert checks["redis"] == {"ok": False, "detail": "does not answer"}
    assert checks["grading"]["ok"] is True
    assert "127.0.0.1" not in answer.get_data(as_text=True)  # no addresses to the public


def test_a_dead_workers_heartbeat_is_forgotten_after_a_day(db: object) -> None:
    heartbeat(4004, seconds_ago=2 * 86400)
    heartbeat(4005, seconds_ago=0)
    assert [w.pid for w in workers.workers(_db.session, now=datetime.now(UTC))] == [4005]


def test_grading_page_shows_workers_and_a_silent_one_in_red(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.admin.email)
    page = client.get("/admin/grading").get_data(as_text=True)
    assert 'data-testid="workers-state"' in page  # no worker at all: the loud warning
    assert "No grading worker has reported in the last 60 seconds" in page
    heartbeat(4006, seconds_ago=3)
    heartbeat(4007, seconds_ago=300)
    page = client.get("/admin/grading").get_data(as_text=True)
    assert 'data-testid="workers-state"' not in page
    table = page[page.index('data-testid="workers"') :].split("</table>")[0]
    rows = table.split("<tr")[2:]  # after the header row
    [reporting] = [r for r in rows if "grader-4006.internal" in r]
    [silent] = [r for r in rows if "grader-4007.internal" in r]
    assert "reporting" in reporting and "table-danger" not in reporting
    assert 'class="table-danger"' in silent and "silent: stopped or unreachable" in silent


def test_live_kernel_hosts_are_reported_but_do_not_make_the_app_unready(
    client: FlaskClient, override_settings: Callable[..., None]
) -> None:
    # Without kernel hosts engineers cannot run cells, but every page and Submit still work:
    # taking every app server out of the load balancer for it would take the whole site down.
    heartbeat(4008, seconds_ago=1)
    override_settings(LIVE_KERNEL_HOSTS=[f"http://127.0.0.1:{closed_port()}"])
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json()["checks"]["live_kernels"] == {
        "ok": False,
        "detail": "0 of 1 host answering",
        "required": False,
    }
