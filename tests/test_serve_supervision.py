"""``skillforge serve`` as it runs in production: its grading worker reports a heartbeat, is
started again when it dies, and stops with the server; /readyz follows it."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.sandbox, pytest.mark.nodb]

SKILLFORGE = str(Path(sys.executable).parent / "skillforge")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"gave up waiting for {what}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (killed, not yet reaped) is not alive.
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


class Served:
    def __init__(self, tmp: Path) -> None:
        self.db = tmp / "skillforge.db"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "SKILLFORGE_DATABASE_URL": f"sqlite:///{self.db}",
            "SKILLFORGE_QUEUE_URL": f"sqlite:///{tmp / 'queue.sqlite3'}",
            "SKILLFORGE_RENDER_CACHE_PATH": str(tmp / "render-cache"),
            "SKILLFORGE_SECRET_KEY": "test",
            "SKILLFORGE_GRADER_POOL_SIZE": "1",
            "SKILLFORGE_GRADER_WARM_UP": "import msgpack, numpy",
            "SKILLFORGE_GRADER_SHUTDOWN_S": "2",
            "SKILLFORGE_LIVE_KERNEL_HOSTS": "",
        }
        self.log = tmp / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        subprocess.run([SKILLFORGE, "db", "upgrade"], env=self.env, check=True, capture_output=True)
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                [SKILLFORGE, "serve", "--port", str(self.port), "--workers", "1", "--no-live"],
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )

    def readiness(self) -> tuple[int, dict[str, object]]:
        try:
            answer = requests.get(self.url + "/readyz", timeout=5)
        except requests.RequestException:
            return 0, {}
        return answer.status_code, answer.json()

    def workers(self) -> list[tuple[int, str]]:
        """(pid, seen_at) of each heartbeat row."""
        with sqlite3.connect(self.db) as conn:
            return list(conn.execute("SELECT pid, seen_at FROM grading_workers"))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_serve_restarts_its_dead_grading_worker_and_readyz_follows(served: Served) -> None:
    wait_for(lambda: served.readiness()[0] == 200, "serve and its grading worker to be ready")
    _, body = served.readiness()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "queue", "grading"}  # type: ignore[arg-type]
    [(first, _)] = served.workers()
    assert alive(first)

    os.kill(first, signal.SIGKILL)  # the grading process dies (an OOM kill, a crash)
    wait_for(lambda: not alive(first), "the killed worker to be gone")
    wait_for(
        lambda: any(pid != first and alive(pid) for pid, _ in served.workers()),
        "serve to start its grading worker again",
    )
    [second] = [pid for pid, _ in served.workers() if pid != first]
    wait_for(lambda: served.readiness()[0] == 200, "readiness with the new worker")
    assert f"the grading worker (pid {first}) stopped" in served.log.read_text()

    served.stop()
    assert served.process is not None and served.process.returncode is not None
    wait_for(lambda: not alive(second), "the grading worker to stop with serve", timeout=30)
    # A clean stop removes the worker's heartbeat (the killed one's stays, and goes stale).
    assert [pid for pid, _ in served.workers()] == [first]
