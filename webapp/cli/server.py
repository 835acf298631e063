"""``serve`` (gunicorn) and ``worker`` (the grading queue's consumer)."""

from __future__ import annotations

import multiprocessing
import subprocess
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
    if grading:
        grader = multiprocessing.get_context("fork").Process(
            target=run_worker,
            args=(app, settings_of(app).grader_workers),
            daemon=True,
            name="skillforge-grading",
        )
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
        if grading:
            grader.terminate()
        if kernel_host is not None:
            kernel_host.terminate()


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
    try:
        consumer.run()  # on SIGTERM: no new jobs; the running ones finish or are handed back
    finally:
        tasks.close_grader()
