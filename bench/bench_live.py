"""Live kernels through the app as it runs in production, against the same kernels driven directly.

    .venv/bin/python bench/bench_live.py [--quick] [--sessions 100] [--duration 120]
        [--workers W] [--threads T] [--runs 200] [--first 10] [--warm-up "import numpy"]

Starts ``skillforge serve`` (gunicorn gthread with serve's own worker and thread counts unless
told, and the kernel host it starts itself: Jupyter Kernel Gateway with the grading sandbox) in a
subprocess on a temporary SQLite
database (its secret key, render cache and queue in the same temporary folder), with the demo
organisation, the real courses synced and the benchmark's engineers created through the app's
services before the server starts. Every request goes over HTTP as a browser's would: log in, open
the notebook page for its CSRF token, ``POST …/kernel``, ``POST …/kernel/run`` and read the
newline-delimited events to the end of the stream, as the page does (so a connection is reused
while it is kept alive), timed up to ``done``.

Baselines, measured in the same run:

- *gateway direct*: a kernel of the same host (sandboxed, from the same warm pool, same warm-up),
  started with the host's REST API and driven over its Jupyter websocket with jupyter_client's
  ``Session`` (the message flow the app uses, without the app). This is the fair one: the same
  kernel behind the same gateway, so the ratio is what the app's layer (gunicorn, Flask, the
  database, sanitising, streaming) costs. The ratio goal is against it.
- *jupyter_client local*: ``KernelManager`` + blocking client on the kernel python, unsandboxed,
  over ZMQ: the floor of any Jupyter kernel round trip on this machine.

Phases: (1) a trivial cell's round trip, app and gateway-direct interleaved; (2) the first cell of
a new session from the warm pool, then with the pool empty; (4) memory of an idle kernel and of one
with the workshop's imports (the host's ``/api/skillforge/host``); (3) N concurrent sessions each
running a small cell every 5 s, measured once they have all started and the pool has refilled.
Results go to ``bench/results/live-<timestamp>.json``; a summary
with the goals is printed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import requests
import websocket
from jupyter_client import KernelManager
from jupyter_client.jsonutil import json_default
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.session import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp.cli.server import serve_command  # noqa: E402
from webapp.kernels.client import GatewayClient, Host  # noqa: E402

KERNEL_PYTHON = "/opt/skillforge/kernel/bin/python"
WORKSHOP = "overfitting"
PASSWORD = "bench-live-" + secrets.token_hex(8)
WORKSHOP_IMPORTS = (
    "import numpy, pandas, matplotlib, matplotlib.pyplot, sklearn, sklearn.linear_model, "
    "sklearn.model_selection, sklearn.metrics"
)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SMALL_CELL = "sum(range(1000))"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def p99(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[-1]
        if len(values) >= 2
        else values[0]
    )


def stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median_ms": ms(statistics.median(values)),
        "p99_ms": ms(p99(values)),
        "min_ms": ms(min(values)),
        "max_ms": ms(max(values)),
    }


# --- the app, as it runs ----------------------------------------------------------------------


class Server:
    """``skillforge serve`` on a temporary database, with its kernel host."""

    def __init__(self, tmp: Path, args: argparse.Namespace, users: list[str]) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.host_url = f"http://127.0.0.1:{free_port()}"
        self.token = secrets.token_hex(16)
        self.workers = args.workers
        self.threads = args.threads
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SKILLFORGE_DATABASE_URL": f"sqlite:///{tmp / 'skillforge.db'}",
            "SKILLFORGE_SECRET_KEY": secrets.token_hex(32),
            "SKILLFORGE_RENDER_CACHE_PATH": str(tmp / "render-cache"),
            "SKILLFORGE_QUEUE_URL": f"sqlite:///{tmp / 'queue.sqlite3'}",
            "SKILLFORGE_LIVE_KERNEL_HOSTS": self.host_url,
            "SKILLFORGE_LIVE_KERNEL_TOKEN": self.token,
            "SKILLFORGE_LIVE_POOL_SIZE": str(args.pool),
            "SKILLFORGE_LIVE_KERNELS_PER_HOST": str(args.sessions + 50),
            "SKILLFORGE_LIVE_KERNELS_PER_ENGINEER": "5",
            "SKILLFORGE_LIVE_WARM_UP": args.warm_up,
        }
        self.users = users
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tmp / "serve.log"

    def prepare(self) -> None:
        """The demo organisation and the real courses, then the benchmark's engineers."""
        skillforge = str(Path(sys.executable).parent / "skillforge")
        subprocess.run(
            [skillforge, "demo"], env=self.env, cwd=ROOT, check=True, capture_output=True
        )
        saved = dict(os.environ)
        # Cheap hashes for the accounts made here (setup, not measured); the server logs them in
        # with the production profile.
        os.environ.update({**self.env, "SKILLFORGE_PASSWORD_HASH_PROFILE": "CHEAPEST"})
        try:
            from webapp import create_app
            from webapp.db import db
            from webapp.models import Notebook, Workshop
            from webapp.services.people import accounts

            app = create_app()
            with app.app_context():
                with click.progressbar(self.users, label="Creating engineers") as bar:
                    for email in bar:
                        accounts.create_user(
                            db.session,
                            email=email,
                            display_name=email.split("@")[0],
                            password=PASSWORD,
                            role="engineer",
                            actor=None,
                        )
                db.session.commit()
                notebook = db.session.scalars(
                    db.select(Notebook)
                    .join(Workshop)
                    .where(Workshop.slug == WORKSHOP)
                    .order_by(Notebook.position)
                ).first()
                assert notebook is not None, f"no notebook in workshop {WORKSHOP}"
                self.notebook = f"/workshops/{WORKSHOP}/notebooks/{notebook.id}"
                db.engine.dispose()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def start(self) -> None:
        skillforge = str(Path(sys.executable).parent / "skillforge")
        argv = [skillforge, "serve", "--port", str(self.port)]
        if self.workers is not None:
            argv += ["--workers", str(self.workers)]
        if self.threads is not None:
            argv += ["--threads", str(self.threads)]
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                [*argv, "--no-grading"], env=self.env, cwd=ROOT, stdout=out, stderr=out
            )
        end = time.monotonic() + 180
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise SystemExit(f"skillforge serve exited; see {self.log}")
            try:
                if requests.get(self.url + "/login", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit(f"skillforge serve did not answer; see {self.log}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def host(self) -> GatewayClient:
        return GatewayClient(Host(self.host_url, self.token), timeout=30)

    def status(self) -> dict[str, Any]:
        """The host's status; a busy host may take a while (its memory figures read /proc)."""
        return self.host().status(timeout=60)

    def wait_pool_full(self, size: int, timeout: float = 120) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            status = self.status()
            if status["warm"] >= size:
                return time.monotonic() - start
            time.sleep(0.25)
        return time.monotonic() - start

    def kernel_id_of(self, email: str) -> str:
        with sqlite3.connect(self.tmp / "skillforge.db") as conn:
            row = conn.execute(
                "SELECT k.kernel_id FROM live_kernels k JOIN users u ON u.id = k.user_id "
                "WHERE u.email = ?",
                (email,),
            ).fetchone()
        return str(row[0])


class Browser:
    """One engineer's logged-in browser on the notebook page."""

    def __init__(self, server: Server, email: str) -> None:
        self.server = server
        self.email = email
        self.http = requests.Session()
        self.base = server.url + server.notebook
        self.token = ""

    def login(self) -> None:
        page = self.http.get(self.server.url + "/login", timeout=60).text
        token = CSRF_RE.search(page)
        assert token, "no CSRF token on /login"
        form = {"csrf_token": token.group(1), "email": self.email, "password": PASSWORD}
        done = self.http.post(self.server.url + "/login", data=form, timeout=60)
        assert done.ok and "/login" not in done.url, f"login failed for {self.email}"
        page = self.http.get(self.base, timeout=60).text
        token = CSRF_RE.search(page)
        assert token, "no CSRF token on the notebook page"
        self.token = token.group(1)

    def _post(self, path: str, body: dict[str, Any], **kwargs: Any) -> requests.Response:
        headers = {"X-CSRFToken": self.token, "Accept": "application/json"}
        return self.http.post(self.base + path, json=body, headers=headers, timeout=120, **kwargs)

    def start_kernel(self) -> dict[str, Any]:
        response = self._post("/kernel", {})
        if response.status_code != 200:
            raise RuntimeError(f"POST /kernel: HTTP {response.status_code} {response.text[:200]}")
        return dict(response.json())

    def run(self, code: str) -> float:
        """Seconds from the request to the cell's ``done`` event; the stream is then read to its
        end, as the page reads it. Raises RuntimeError when the cell does not end ok."""
        start = time.perf_counter()
        response = self._post("/kernel/run", {"code": code}, stream=True)
        if response.status_code != 200:
            raise RuntimeError(f"run: HTTP {response.status_code} {response.text[:200]}")
        events, elapsed = [], 0.0
        for line in response.iter_lines():
            if line:
                event = json.loads(line)
                events.append(event)
                if event["event"] in ("done", "error") and not elapsed:
                    elapsed = time.perf_counter() - start
        response.close()
        if not events or events[-1].get("event") != "done" or events[-1].get("status") != "ok":
            raise RuntimeError(f"run ended with {events[-1] if events else 'nothing'}")
        return elapsed


# --- the baselines ----------------------------------------------------------------------------


class DirectKernel:
    """A kernel of the same host, over its websocket with jupyter_client's Session: no app."""

    def __init__(self, server: Server) -> None:
        self.client = server.host()
        self.kernel_id = self.client.start_kernel(WORKSHOP)
        url = f"{self.client.host.ws_url}/api/kernels/{self.kernel_id}/channels"
        self.ws = websocket.create_connection(  # as the app's client connects
            url,
            header=[f"Authorization: token {server.token}"],
            timeout=60,
            skip_utf8_validation=True,
        )
        self.session = Session(username="bench")

    def run(self, code: str) -> None:
        content = {"code": code, "silent": False, "store_history": True, "allow_stdin": False}
        msg = self.session.msg("execute_request", {**content, "user_expressions": {}})
        msg_id = msg["header"]["msg_id"]
        self.ws.send(json.dumps({**msg, "channel": "shell", "buffers": []}, default=json_default))
        idle = replied = False
        while not (idle and replied):
            reply = json.loads(self.ws.recv())
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = reply.get("msg_type") or reply["header"]["msg_type"]
            if kind == "execute_reply":
                replied = True
                assert reply["content"]["status"] == "ok", reply["content"]
            elif kind == "status" and reply["content"]["execution_state"] == "idle":
                idle = True

    def close(self) -> None:
        self.ws.close()
        self.client.shutdown(self.kernel_id)


def local_kernel_times(runs: int) -> list[float]:
    """``KernelManager`` + blocking client on the kernel python, unsandboxed (ZMQ, no gateway)."""
    km = KernelManager()
    km._kernel_spec = KernelSpec(
        argv=[KERNEL_PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        language="python",
    )
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    times = []
    try:
        for _ in range(10):
            kc.execute_interactive("1+1", output_hook=lambda _msg: None, timeout=30)
        for _ in range(runs):
            start = time.perf_counter()
            reply = kc.execute_interactive("1+1", output_hook=lambda _msg: None, timeout=30)
            times.append(time.perf_counter() - start)
            assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return times


# --- the phases -------------------------------------------------------------------------------


def round_trip(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    """A trivial cell, the app and the gateway-direct kernel taking turns."""
    browser = Browser(server, "rt@bench.example")
    browser.login()
    browser.start_kernel()
    direct = DirectKernel(server)
    app_times, direct_times = [], []
    try:
        for _ in range(10):
            browser.run("1+1")
            direct.run("1+1")
        with click.progressbar(range(args.runs), label="Round trip of 1+1") as bar:
            for _ in bar:
                app_times.append(browser.run("1+1"))
                start = time.perf_counter()
                direct.run("1+1")
                direct_times.append(time.perf_counter() - start)
    finally:
        direct.close()
    local = local_kernel_times(args.runs)
    return {
        "app": stats(app_times),
        "gateway_direct": stats(direct_times),
        "jupyter_client_local": stats(local),
    }


def first_cell(server: Server, args: argparse.Namespace, emails: list[str]) -> dict[str, Any]:
    """Start request to the first cell's ``done`` for fresh engineers: warm pool, then empty."""

    def session(email: str) -> float:
        browser = Browser(server, email)
        browser.login()
        start = time.perf_counter()
        started = browser.start_kernel()
        browser.run("1+1")
        elapsed = time.perf_counter() - start
        assert started["started"], started
        return elapsed

    warm, direct, refill = [], [], []
    first, empty = emails[: args.first], emails[args.first :]
    with click.progressbar(first, label="First cell, warm pool") as bar:
        for email in bar:
            refill.append(server.wait_pool_full(args.pool))
            warm.append(session(email))
            refill.append(server.wait_pool_full(args.pool))
            start = time.perf_counter()
            kernel = DirectKernel(server)
            kernel.run("1+1")
            direct.append(time.perf_counter() - start)
            kernel.close()
    refill.append(server.wait_pool_full(args.pool))
    # The pool runs dry: pool + 2 engineers, already logged in, start their kernels at once.
    burst = [Browser(server, email) for email in empty]
    for browser in burst:
        browser.login()

    def start_and_run(browser: Browser) -> float:
        begin = time.perf_counter()
        browser.start_kernel()
        browser.run("1+1")
        return time.perf_counter() - begin

    with ThreadPoolExecutor(len(burst)) as pool:
        cold = sorted(pool.map(start_and_run, burst))
    return {
        "warm_pool": stats(warm),
        "gateway_direct_warm_pool": stats(direct),
        "pool_empty_burst_ms": [ms(t) for t in cold],
        "pool_size": args.pool,
        "refill_wait_ms": stats(refill),
    }


def memory(server: Server) -> dict[str, Any]:
    """An idle claimed kernel (warm-up only, after 1+1), then with the workshop's imports."""
    browser = Browser(server, "mem@bench.example")
    browser.login()
    browser.start_kernel()
    browser.run("1+1")
    kernel_id = server.kernel_id_of("mem@bench.example")

    def mem() -> int:
        time.sleep(1)
        for kernel in server.status()["kernels"]:
            if kernel["id"] == kernel_id:
                return int(kernel["memory_bytes"])
        raise RuntimeError("the kernel is not on the host")

    idle = mem()
    imports_s = browser.run(WORKSHOP_IMPORTS)
    loaded = mem()
    warm = [k["memory_bytes"] for k in server.status()["kernels"] if k["warm"]]
    return {
        "idle_mib": round(idle / 2**20, 1),
        "workshop_imports_mib": round(loaded / 2**20, 1),
        "warm_pool_kernel_mib": round(statistics.median(warm) / 2**20, 1) if warm else None,
        "workshop_imports": WORKSHOP_IMPORTS,
        "imports_cell_ms": ms(imports_s),
    }


def open_sessions(
    server: Server, args: argparse.Namespace, emails: list[str]
) -> tuple[list[Browser], list[str]]:
    """Log each engineer in and start their kernel, ``--setup-parallel`` at a time."""
    browsers = [Browser(server, email) for email in emails]
    setup_errors: list[str] = []

    def open_session(browser: Browser) -> Browser | None:
        try:
            browser.login()
            browser.start_kernel()
            browser.run(SMALL_CELL)
            return browser
        except Exception as exc:  # noqa: BLE001 - counted and reported
            setup_errors.append(f"{browser.email}: {exc}")
            return None

    ready: list[Browser] = []
    with (
        ThreadPoolExecutor(args.setup_parallel) as pool,
        click.progressbar(length=len(browsers), label=f"Starting {len(browsers)} sessions") as bar,
    ):
        for result in pool.map(open_session, browsers):
            bar.update(1)
            if result is not None:
                ready.append(result)
    return ready, setup_errors


def concurrency(server: Server, args: argparse.Namespace, emails: list[str]) -> dict[str, Any]:
    """N sessions, each running a small cell every ``--interval`` s for ``--duration`` s."""
    start = time.perf_counter()
    ready, setup_errors = open_sessions(server, args, emails)
    setup_s = time.perf_counter() - start
    # The sessions' starts took the pool's kernels; its refills (each a kernel start and warm-up)
    # belong to the start, not to the steady state measured below.
    refill_s = server.wait_pool_full(args.pool)
    status = server.status()
    kernels_mib = sum(k["memory_bytes"] for k in status["kernels"]) / 2**20

    latencies: list[float] = []
    timeline: list[tuple[float, float]] = []  # (seconds into the run, latency)
    errors: list[str] = []
    lock = threading.Lock()
    began = time.monotonic()
    stop_at = began + args.duration
    load: list[float] = []

    def loop(browser: Browser) -> None:
        time.sleep(random.uniform(0, args.interval))  # noqa: S311 - spread the sessions
        due = time.monotonic()
        while due < stop_at:
            try:
                elapsed = browser.run(SMALL_CELL)
                with lock:
                    latencies.append(elapsed)
                    timeline.append((time.monotonic() - began, elapsed))
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{browser.email}: {exc}")
            due += args.interval
            time.sleep(max(0.0, due - time.monotonic()))

    threads = [threading.Thread(target=loop, args=(b,), daemon=True) for b in ready]
    for thread in threads:
        thread.start()
    with click.progressbar(range(args.duration), label=f"{len(ready)} sessions running") as bar:
        for _ in bar:
            time.sleep(1)
            load.append(os.getloadavg()[0])
    for thread in threads:
        thread.join(args.interval + 120)
    return {
        "sessions": len(emails),
        "sessions_started": len(ready),
        "setup_s": round(setup_s, 1),
        "pool_refill_wait_s": round(refill_s, 1),
        "setup_errors": setup_errors[:20],
        "setup_error_count": len(setup_errors),
        "duration_s": args.duration,
        "interval_s": args.interval,
        "cell": SMALL_CELL,
        "latency": stats(latencies),
        "error_count": len(errors),
        "errors": errors[:20],
        "kernels_memory_mib": round(kernels_mib, 0),
        "load_avg_1min_max": round(max(load), 2) if load else None,
        "gunicorn": gunicorn_of(server),
        "by_10s": windows(timeline, load),
    }


def windows(timeline: list[tuple[float, float]], load: list[float]) -> list[dict[str, Any]]:
    """Latency and the machine's 1-minute load average per 10 s of the run: whether a tail is
    spread over the run or comes with a burst of load (other work on a shared machine)."""
    out = []
    for start in range(0, len(load), 10):
        inside = [t for at, t in timeline if start <= at < start + 10]
        if inside:
            out.append(
                {
                    "from_s": start,
                    "n": len(inside),
                    "median_ms": ms(statistics.median(inside)),
                    "max_ms": ms(max(inside)),
                    "load_avg_1min": round(max(load[start : start + 10]), 2),
                }
            )
    return out


# --- report -----------------------------------------------------------------------------------


def goals(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    rt = results["round_trip"]
    app, direct = rt["app"]["median_ms"], rt["gateway_direct"]["median_ms"]
    first = results["first_cell"]["warm_pool"]["median_ms"]
    first_max = results["first_cell"]["warm_pool"]["max_ms"]
    conc = results["concurrency"]
    out = [
        ("1+1 round trip median ≤ 30 ms", f"{app:.1f} ms", app <= 30),
        (
            "1+1 round trip ≤ 2 × gateway direct",
            f"{app / direct:.1f} × ({direct:.1f} ms)",
            app <= 2 * direct,
        ),
        (
            "first cell from the warm pool ≤ 1 s",
            f"median {first:.0f}, max {first_max:.0f} ms",
            first_max <= 1000,
        ),  # fmt: skip
        (
            f"{conc['sessions']} sessions: p99 ≤ 500 ms",
            f"{conc['latency'].get('p99_ms', float('nan')):.0f} ms",
            conc["latency"].get("p99_ms", math.inf) <= 500,
        ),
        (
            f"{conc['sessions']} sessions: 0 errors",
            f"{conc['error_count']} (+{conc['setup_error_count']} at start)",
            conc["error_count"] + conc["setup_error_count"] == 0,
        ),
    ]
    return out


def summary(results: dict[str, Any]) -> None:
    rt, fc, mem, conc = (results[k] for k in ("round_trip", "first_cell", "memory", "concurrency"))
    print("\n| what | median | p99 | n |\n|---|---|---|---|")
    for label, s in (
        ("1+1 through the app (HTTP, streamed)", rt["app"]),
        ("1+1 gateway direct (same host's kernel, websocket)", rt["gateway_direct"]),
        ("1+1 jupyter_client local (unsandboxed, ZMQ)", rt["jupyter_client_local"]),
        ("first cell, warm pool, through the app", fc["warm_pool"]),
        ("first kernel + cell, warm pool, gateway direct", fc["gateway_direct_warm_pool"]),
        (
            f"{conc['sessions']} sessions, `{conc['cell']}` every {conc['interval_s']} s",
            conc["latency"],
        ),  # fmt: skip
    ):
        if s.get("n"):
            print(f"| {label} | {s['median_ms']:.1f} ms | {s['p99_ms']:.1f} ms | {s['n']} |")
    burst = fc["pool_empty_burst_ms"]
    print(
        f"\nPool empty: {len(burst)} sessions at once on a pool of {fc['pool_size']}: "
        f"{', '.join(f'{t:.0f}' for t in burst)} ms"
    )
    print(
        f"Memory: idle kernel {mem['idle_mib']} MiB, with the workshop's imports "
        f"{mem['workshop_imports_mib']} MiB (warm pool kernel {mem['warm_pool_kernel_mib']} MiB)"
    )
    print(
        f"Concurrency: {conc['sessions_started']}/{conc['sessions']} started in "
        f"{conc['setup_s']} s, {conc['gunicorn']}, kernels {conc['kernels_memory_mib']:.0f} MiB, "
        f"1-min load average up to {conc['load_avg_1min_max']}"
    )
    print(
        "Per 10 s (max latency ms @ 1-min load): "
        + ", ".join(f"{w['max_ms']:.0f}@{w['load_avg_1min']:.1f}" for w in conc["by_10s"])
    )
    print("\n| goal | measured | met |\n|---|---|---|")
    for goal, measured, met in goals(results):
        print(f"| {goal} | {measured} | {'met' if met else 'NOT met'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 sessions for 20 s")
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--duration", type=int, default=120, help="seconds of the concurrent run")
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=200, help="round trips of 1+1")
    parser.add_argument("--first", type=int, default=10, help="first-cell sessions, warm pool")
    parser.add_argument("--pool", type=int, default=4, help="LIVE_POOL_SIZE")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (serve's)")
    parser.add_argument("--threads", type=int, default=None, help="threads a worker (serve's)")
    parser.add_argument("--setup-parallel", type=int, default=4)
    parser.add_argument("--warm-up", default="import numpy", help="LIVE_WARM_UP")
    args = parser.parse_args()
    if args.quick:
        args.sessions, args.duration, args.first = 10, 20, 3
    empty = args.pool + 2
    fresh = [f"fresh{n:03d}@bench.example" for n in range(args.first + empty)]
    load = [f"load{n:03d}@bench.example" for n in range(args.sessions)]
    users = ["rt@bench.example", "mem@bench.example", *fresh, *load]
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip(),
        "args": vars(args),
        "cpus": os.cpu_count(),
        "load_avg_at_start": os.getloadavg(),
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"live-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        server = Server(Path(tmp), args, users)
        server.prepare()
        server.start()
        results["gunicorn"] = gunicorn_of(server)
        try:
            results["sandbox"] = server.status().get("sandbox")
            server.wait_pool_full(args.pool)
            results["round_trip"] = round_trip(server, args)
            results["first_cell"] = first_cell(server, args, fresh)
            results["memory"] = memory(server)
            server.wait_pool_full(args.pool)
            results["concurrency"] = concurrency(server, args, load)
            results["goals"] = [
                {"goal": g, "measured": m, "met": ok} for g, m, ok in goals(results)
            ]
        finally:
            server.stop()
            log = server.log.read_text(errors="replace").splitlines()
            results["serve_log_tail"] = [line for line in log if "HTTP/1.1" not in line][-15:]
            path.write_text(json.dumps(results, indent=2))  # what was measured, even on a failure
    summary(results)
    print(f"\nResults: {path.relative_to(ROOT)}")


def gunicorn_of(server: Server) -> str:
    defaults = {param.name: param.default for param in serve_command.params}
    workers = server.workers or defaults["workers"]
    threads = server.threads or defaults["threads"]
    return f"{workers} workers x {threads} threads"


if __name__ == "__main__":
    main()
