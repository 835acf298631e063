"""``serve`` (gunicorn) and ``worker`` (the grading queue's consumer)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import multiprocessing.process
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from gunicorn.app.base import BaseApplication

from webapp import jobs as tasks
from webapp.cli.kernels import host_options, start_host, wait_for_host
from webapp.db import db
from webapp.extensions import queue
from webapp.kernels.client import GatewayClient, Host, HostUnavailable
from webapp.services.words import count
from webapp.settings import settings_of

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent thread exits


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Processes (one a core).")
@click.option(
    "--threads",
    default=32,
    show_default=True,
    type=int,
    help="Threads a process: each running cell holds one while its outputs stream.",
)
@click.option(
    "--grading/--no-grading",
    default=True,
    show_default=True,
    help="Also run a grading worker (turn off when dedicated workers run elsewhere).",
)
@click.option(
    "--live/--no-live",
    default=True,
    show_default=True,
    help="Also run the kernel host of live notebooks when LIVE_KERNEL_HOSTS names this machine.",
)
@with_appcontext
def serve_command(
    host: str, port: int, workers: int, threads: int, grading: bool, live: bool
) -> None:
    """Run Skillforge with gunicorn, plus a grading worker and a kernel host (see
    docs/deployment.md for production)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    kernel_host = _start_local_kernel_host(app) if live else None
    engine = db.engine
    engine.dispose()
    grader = GradingSupervisor(app, settings_of(app).grader_workers) if grading else None
    if grader is not None:
        grader.start()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")
            # Each worker opens its own database connections, never the master's.
            self.cfg.set("post_fork", lambda _server, _worker: engine.dispose(close=False))

        def load(self) -> Flask:
            return app  # type: ignore[no-any-return]

    click.echo(f"Skillforge is running at http://{host}:{port}/  (Ctrl-C stops it)")
    try:
        Server().run()
    finally:
        if grader is not None:
            grader.stop()
        if kernel_host is not None:
            kernel_host.terminate()


class GradingSupervisor(threading.Thread):
    """Runs ``serve``'s grading worker as a child process and starts it again whenever it dies
    (after a pause that grows while it keeps dying at once, up to a minute), as systemd's
    Restart=always would; stopping it sends SIGTERM, so running grades are handed back."""

    def __init__(self, app: Flask, workers: int) -> None:
        super().__init__(name="skillforge-grading-supervisor", daemon=True)
        self.app, self.workers = app, workers
        self.halt = threading.Event()
        self.process: multiprocessing.process.BaseProcess | None = None
        self.restarts = 0

    def _spawn(self) -> multiprocessing.process.BaseProcess:
        process = multiprocessing.get_context("fork").Process(
            target=_grading_child, args=(self.app, self.workers), name="skillforge-grading"
        )
        process.start()
        return process

    def run(self) -> None:
        pause = 1.0
        while not self.halt.is_set():
            started = time.monotonic()
            self.process = self._spawn()
            self.process.join()
            if self.halt.is_set():
                return
            pause = 1.0 if time.monotonic() - started > 60 else min(pause * 2, 60.0)
            self.restarts += 1
            log.error(
                "the grading worker (pid %s) stopped (exit code %s); starting it again in %.0f s",
                self.process.pid,
                self.process.exitcode,
                pause,
            )
            self.halt.wait(pause)

    def stop(self, timeout: float = 60) -> None:
        self.halt.set()
        process = self.process
        if process is not None and process.is_alive():
            process.terminate()  # SIGTERM: the worker hands its running grades back
            process.join(timeout)
            if process.is_alive():
                process.kill()
        self.join(timeout=5)


def _grading_child(app: Flask, workers: int) -> None:
    """The grading worker under ``serve``: its own process group, so a Ctrl-C meant for the
    server reaches it only through the supervisor (as SIGTERM), and SIGTERM when the
    supervisor's thread dies with the server."""
    os.setpgrp()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    run_worker(app, workers)


def _start_local_kernel_host(app: Flask) -> subprocess.Popen[bytes] | None:
    """The first of LIVE_KERNEL_HOSTS, when it is this machine and not already running."""
    live = settings_of(app).live
    if not live.hosts or urlsplit(live.hosts[0]).hostname not in ("127.0.0.1", "localhost"):
        return None
    url = live.hosts[0]
    try:
        GatewayClient(Host(url, live.token), timeout=2).status()
        return None  # already running (`skillforge kernels host`)
    except HostUnavailable:
        pass
    log = str(Path(app.instance_path) / "kernel-host.log")
    process = start_host(host_options(app, url), log=log)
    wait_for_host(url, live.token, process, timeout=60)
    click.echo(f"Live kernels: host at {url} (log: {log})")
    return process


@click.command("worker")
@click.option("--workers", type=int, default=None, help="Grading threads (GRADER_WORKERS).")
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Run a grading worker: takes jobs from the queue (SQLite or Redis) until stopped."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_worker(app, workers or settings_of(app).grader_workers)


def run_worker(app: Flask, workers: int) -> None:
    """Consume the queue in this process (``serve`` forks one): its own queue storage, its app."""
    tasks.configure_queue(app)
    tasks.bind_app(app)
    probe = tasks.get_grader(app)  # refuse to start without a sandbox, and warm the pool now
    click.echo(
        f"Grading worker ready: sandbox {probe.backend}, {count(workers, 'thread')}, "
        f"queue {type(queue.storage).__name__}"
    )
    consumer = queue.create_consumer(
        workers=workers,
        worker_type="thread",
        graceful_signal="TERM",  # what systemd, Docker and Kubernetes send to stop a service
        shutdown_timeout=settings_of(app).grader_shutdown_s,
    )
    heartbeat = tasks.Heartbeat(app, sandbox=probe.backend, threads=workers)
    heartbeat.start()
    try:
        consumer.run()  # on SIGTERM: no new jobs; the running ones finish or are handed back
    finally:
        heartbeat.stop()
        tasks.close_grader()
