"""Live kernels through the app, on two real kernel hosts (Kernel Gateway + the sandbox).

What an engineer relies on: cells run in their own sandboxed kernel with outputs streamed and
sanitised; checks say what failed without ever sending hidden tests; interrupt, restart and stop
work; no one else can reach their kernel; sessions survive the web processes restarting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.conftest import (
    KERNEL_TOKEN,
    AuthActions,
    FreshContextClient,
    Org,
    app_config,
    csrf_token,
)
from webapp import create_app
from webapp.db import db as _db
from webapp.kernels import client as gateway
from webapp.models import LiveKernel
from webapp.models import Notebook as NotebookModel
from webapp.services.learning import live_sessions
from webapp.services.learning.exercises import exercise_states

pytestmark = pytest.mark.sandbox

TINY = "/workshops/tiny/notebooks/{}"
TINY_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5Er"
    "kJggg=="
)


class Notebook:
    """The tiny notebook's kernel endpoints, as one logged-in browser uses them."""

    def __init__(self, client: FlaskClient, notebook_id: int) -> None:
        self.client = client
        self.base = TINY.format(notebook_id)
        self.token = csrf_token(client, self.base)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(
            self.base + path,
            data=json.dumps(body or {}),
            headers={
                "X-CSRFToken": self.token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )

    def start(self) -> Any:
        return self.post("/kernel")

    def stream(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        response = self.post(path, body)
        assert response.status_code == 200, response.get_data(as_text=True)
        buffer = ""
        for chunk in response.response:
            buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
            *lines, buffer = buffer.split("\n")
            for line in lines:
                if line:
                    yield json.loads(line)

    def run(self, code: str) -> list[dict[str, Any]]:
        return list(self.stream("/kernel/run", {"code": code}))

    def output(self, code: str) -> str:
        return "".join(e.get("html", "") for e in self.run(code) if e["event"] == "output")

    def check(self, grade_id: str, answers: dict[str, str]) -> dict[str, Any]:
        events = list(self.stream(f"/check/{grade_id}", {"answers": answers}))
        return events[-1]


def browser(app: Flask, email: str, notebook_id: int) -> Notebook:
    client = FreshContextClient(app, app.response_class, use_cookies=True)
    response = AuthActions(client).login(email)
    assert response.status_code == 302
    return Notebook(client, notebook_id)


@pytest.fixture()
def tiny(catalog: dict[str, int], live: list[str]) -> int:
    yield catalog["tiny"]
    for row in _db.session.scalars(select(LiveKernel)).all():  # leave the hosts as found
        gateway.GatewayClient(gateway.Host(row.host, KERNEL_TOKEN)).shutdown(row.kernel_id)
    gateway.close_all()


def test_cells_run_in_order_with_streamed_counted_and_sanitised_outputs(
    app: Flask, org: Org, tiny: int
) -> None:
    eve = browser(app, org.engineer.email, tiny)
    assert eve.start().get_json()["running"] is True
    assert eve.run("x = 41")[-1] == {"event": "done", "status": "ok", "n": 1}
    events = eve.run("print(x + 1)")
    assert {"event": "count", "n": 2} in events
    assert "42" in "".join(e.get("html", "") for e in events)

    failed = eve.run("1 / 0")
    assert failed[-1]["status"] == "error"
    traceback_html = "".join(e.get("html", "") for e in failed)
    assert "ZeroDivisionError" in traceback_html and 'class="ansi-' in traceback_html

    rich = eve.output(
        "from IPython.display import HTML, SVG, Image, display\n"
        'display(HTML(\'<table><tr><td onclick="steal()">cell</td></tr></table>'
        "<script>steal()</script>'))\n"
        f"display(Image(data=__import__('base64').b64decode('{TINY_PNG}')))\n"
        "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>'))"
    )
    assert "<td>cell</td>" in rich
    assert "onclick" not in rich and "<script" not in rich and "<svg" not in rich
    assert 'src="data:image/png;base64,' in rich
    assert 'src="data:image/svg+xml;base64,' in rich


def test_the_kernel_is_sandboxed_and_has_the_workshops_data_only(
    app: Flask, org: Org, tiny: int
) -> None:
    eve = browser(app, org.engineer.email, tiny)
    eve.start()
    out = eve.output(
        "import os, socket\n"
        "print('uid', os.getuid())\n"
        "print('files', sorted(os.listdir('.')))\n"
        "print('secret' in ' '.join(os.environ), 'KG_AUTH_TOKEN' in os.environ)\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 5432), timeout=2)\n"
        "    print('network: yes')\n"
        "except OSError:\n"
        "    print('network: no')\n"
    )
    assert "uid 0" not in out
    assert "files []" in out  # the tiny workshop's folder holds only its notebook and course.toml
    assert "False False" in out
    assert "network: no" in out


def test_another_engineer_can_neither_attach_to_nor_control_nor_read_a_kernel(
    app: Flask, org: Org, tiny: int
) -> None:
    eve = browser(app, org.engineer.email, tiny)
    started = eve.start()
    assert "kernel_id" not in started.get_data(as_text=True)
    eve.run("secret = 'eve-only-7731'")
    kernel_id = _db.session.scalar(select(LiveKernel.kernel_id))
    page = eve.client.get(eve.base).get_data(as_text=True)
    assert kernel_id not in page

    for intruder in (org.teammate, org.manager, org.admin):
        other = browser(app, intruder.email, tiny)
        for path in ("/kernel/run", "/kernel/interrupt", "/kernel/restart", "/kernel/stop"):
            refused = other.post(path, {"code": "print(secret)"})
            assert refused.status_code == 409, path
        assert other.client.get(other.base + "/kernel").get_json()["running"] is False
        other.start()
        assert "eve-only-7731" not in other.output("print(globals().get('secret'))")
        other.post("/kernel/stop")

    assert "eve-only-7731" in eve.output("print(secret)")


def test_check_says_what_failed_and_never_sends_the_hidden_tests(
    app: Flask, org: Org, tiny: int
) -> None:
    eve = browser(app, org.engineer.email, tiny)
    eve.start()
    eve.run("import math")
    stub = eve.check("test_mean", {})
    assert stub["passed"] is False and "NotImplementedError" in stub["message"]

    wrong = eve.check("test_mean", {"impl_mean": "def mean(xs):\n    return 0"})
    assert wrong["passed"] is False
    assert wrong["line"] == "assert mean([1, 2, 3]) == 2"

    states = {
        s.grade_id: s.state
        for s in exercise_states(_db.session, user_id=org.engineer.id, notebook_id=tiny)
    }
    assert states["impl_mean"] == "attempted"
    right = eve.check("test_mean", {"impl_mean": "def mean(xs):\n    return sum(xs) / len(xs)"})
    assert right == {"event": "checked", "passed": True, "message": "", "line": ""}
    _db.session.expire_all()
    states = {
        s.grade_id: s.state
        for s in exercise_states(_db.session, user_id=org.engineer.id, notebook_id=tiny)
    }
    assert states["impl_mean"] == "passed in practice"  # practice: never verified evidence
    assert states["impl_var"] == "not started"

    history = eve.output("print('\\n'.join(In))")
    assert "assert mean([1, 2, 3]) == 2" in history
    assert "HIDDEN" not in history and "mean([5])" not in history

    unknown = eve.post("/check/impl_mean", {"answers": {}})
    assert unknown.status_code == 404


def test_interrupt_stops_an_endless_loop_and_restart_forgets_variables(
    app: Flask, org: Org, tiny: int
) -> None:
    eve = browser(app, org.engineer.email, tiny)
    eve.start()
    eve.run("kept = 1")
    endless = "print('looping', flush=True)\nwhile True:\n    pass"
    loop = eve.stream("/kernel/run", {"code": endless})
    first = next(e for e in loop if e["event"] == "output")
    assert "looping" in first["html"]
    assert eve.post("/kernel/interrupt").status_code == 200
    rest = list(loop)
    assert rest[-1]["status"] == "error"
    assert "KeyboardInterrupt" in "".join(e.get("html", "") for e in rest)
    assert "1" in eve.output("print(kept)")

    assert eve.post("/kernel/restart").status_code == 200
    assert "NameError" in eve.output("print(kept)")

    assert eve.post("/kernel/stop").get_json() == {"running": False, "done": "stop"}
    assert eve.client.get(eve.base + "/kernel").get_json()["running"] is False


def test_a_kernel_the_host_stopped_is_reported_and_a_new_one_starts(
    app: Flask, org: Org, tiny: int
) -> None:
    eve = browser(app, org.engineer.email, tiny)
    eve.start()
    row = _db.session.scalar(select(LiveKernel))
    gateway.GatewayClient(gateway.Host(row.host, KERNEL_TOKEN)).shutdown(row.kernel_id)  # culled

    events = eve.run("print(1)")
    assert events[-1]["event"] == "error" and events[-1]["running"] is False
    assert "has stopped" in events[-1]["message"] and "answers are kept" in events[-1]["message"]
    assert eve.client.get(eve.base + "/kernel").get_json()["running"] is False
    assert eve.start().get_json()["started"] is True
    assert "2" in eve.output("print(1 + 1)")


def test_sessions_spread_over_hosts_and_survive_a_restart_of_the_web_processes(
    app: Flask, org: Org, tiny: int, live: list[str]
) -> None:
    people = (org.engineer, org.teammate)
    for n, person in enumerate(people):
        nb = browser(app, person.email, tiny)
        nb.start()
        nb.run(f"mine = 'state of {n}'")
    hosts = {row.host for row in _db.session.scalars(select(LiveKernel))}
    assert hosts == set(live)

    gateway.close_all()  # a new process has no open connections
    restarted = create_app(
        app_config(
            app.config["SQLALCHEMY_DATABASE_URI"],
            LIVE_KERNEL_HOSTS=live,
            LIVE_KERNEL_TOKEN=KERNEL_TOKEN,
            COURSES_PATH=app.config["COURSES_PATH"],
            RENDER_CACHE_PATH=app.config["RENDER_CACHE_PATH"],
        )
    )
    try:
        for n, person in enumerate(people):
            nb = browser(restarted, person.email, tiny)
            assert nb.client.get(nb.base + "/kernel").get_json()["running"] is True
            assert f"state of {n}" in nb.output("print(mine)")
    finally:
        with restarted.app_context():
            _db.engine.dispose()  # the "new process" closes its own database connections


def test_an_engineer_has_a_limited_number_of_kernels(
    app: Flask, org: Org, tiny: int, override_settings: Any, live: list[str]
) -> None:
    override_settings(LIVE_KERNELS_PER_ENGINEER=1)
    eve = browser(app, org.engineer.email, tiny)
    eve.start()
    assert eve.start().get_json()["started"] is False  # the same notebook: the same kernel
    assert _db.session.scalar(select(LiveKernel.notebook_id)) == tiny
    # As if her one kernel were another notebook's: this notebook would be a second kernel.
    second = _db.session.scalar(select(NotebookModel.id).where(NotebookModel.id != tiny))
    _db.session.execute(update(LiveKernel).values(notebook_id=second))
    _db.session.commit()
    refused = eve.start()
    assert refused.status_code == 409
    assert "Stop one from its notebook page" in refused.get_json()["message"]


def test_the_admin_grading_page_lists_hosts_and_each_engineers_kernel_with_its_memory(
    app: Flask, org: Org, tiny: int, live: list[str]
) -> None:
    eve = browser(app, org.engineer.email, tiny)
    eve.start()
    ada = browser(app, org.admin.email, tiny)
    page = ada.client.get("/admin/grading").get_data(as_text=True)
    for url in live:
        assert f"<code>{url}</code>" in page
    assert page.count("answering") >= 2 and "not answering" not in page
    kernels = page.split('data-testid="live-kernels"')[1]
    assert "Eve Engineer" in kernels and " MB" in kernels


def test_running_cells_notes_the_kernels_last_use_without_writing_it_for_every_cell(
    app: Flask, org: Org, tiny: int
) -> None:
    eve = browser(app, org.engineer.email, tiny)
    eve.start()
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    _db.session.execute(update(LiveKernel).values(last_used_at=long_ago))
    _db.session.commit()

    def last_use() -> datetime:
        _db.session.expire_all()
        return _db.session.scalars(select(LiveKernel.last_used_at)).one()

    assert eve.run("1")[-1]["status"] == "ok"
    noted = last_use()
    assert noted > long_ago + timedelta(hours=1)
    with time_machine.travel(noted + timedelta(seconds=30), tick=False):
        assert eve.run("2")[-1]["status"] == "ok"
    assert last_use() == noted
    later = noted + live_sessions.TOUCH_EVERY + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert eve.run("3")[-1]["status"] == "ok"
    assert last_use() == later
