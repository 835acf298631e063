"""Background jobs (Huey): grading submissions, making worked examples' outputs, computing
training plans, and recovering jobs whose worker died.

Jobs take ids only, push an app context, call one use case, and commit or roll back. A job's
signature is a deploy contract: new arguments must be optional keywords. The queue's storage is
chosen once per process: by the first app built in it, or explicitly by the worker.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from flask import Flask, current_app
from huey import crontab, signals
from huey.api import Task
from huey.storage import RedisStorage, SqliteStorage

from webapp.db import db
from webapp.extensions import queue
from webapp.grading.autograde import Grader
from webapp.models import WorkedExamples
from webapp.services import housekeeping, imports
from webapp.services.catalog import rendering, worked
from webapp.services.learning import grading, submissions, workers
from webapp.services.planning import runs
from webapp.settings import settings_of

log = logging.getLogger(__name__)

QUEUE_AWAY = (
    "The job queue cannot be reached just now. What you asked for is stored and starts by "
    "itself within a few minutes of the queue coming back; nothing needs doing again."
)


def enqueue(task: Callable[..., object], *args: object) -> bool:
    """Put a job on the queue; False (and a warning in the log) when the queue's storage cannot
    be reached. Callers store what the job works on first, so the minute's recovery job
    (``recover_stalled``) queues it again once the queue answers."""
    try:
        task(*args)
    except (redis.RedisError, sqlite3.Error, OSError) as exc:
        log.warning("could not queue %s%r: %s", getattr(task, "name", task), args, exc)
        return False
    return True


_app: Flask | None = None
_grader: Grader | None = None
_grader_lock = threading.Lock()
_queue_lock = threading.Lock()
_queue_configured = False


def configure_queue(app: Flask) -> None:
    """Point the queue at its storage: QUEUE_URL, else Redis when REDIS_URL is set, else SQLite.

    Explicit: the worker calls it, and so may a test that needs a given storage; the factory
    calls ``configure_queue_once`` instead."""
    with _queue_lock:
        _point_queue(app)


def configure_queue_once(app: Flask) -> None:
    """Choose the queue's storage from the first app built in this process; later apps leave
    it alone, so building another app never moves the queue other code enqueues to."""
    with _queue_lock:
        if not _queue_configured:
            _point_queue(app)


def _point_queue(app: Flask) -> None:
    global _queue_configured
    url = app.config.get("QUEUE_URL") or app.config.get("REDIS_URL")
    if url and url.startswith("redis"):
        queue.storage_class, queue.storage_kwargs = RedisStorage, {"url": url}
    else:
        path = urlsplit(url).path if url else str(Path(app.instance_path) / "queue.sqlite3")
        queue.storage_class, queue.storage_kwargs = SqliteStorage, {"filename": path}
    queue.storage = queue.create_storage()
    _queue_configured = True


def bind_app(app: Flask) -> None:
    """Give jobs the worker's app (consumer threads have no app context of their own)."""
    global _app
    _app = app


def get_grader(app: Flask) -> Grader:
    """The worker process's grader (one warm kernel pool per process), started on first use."""
    global _grader
    with _grader_lock:
        if _grader is None:
            _grader = Grader(settings_of(app).grader)
        return _grader


def close_grader() -> None:
    global _grader
    with _grader_lock:
        if _grader is not None:
            _grader.close()
            _grader = None


class Heartbeat(threading.Thread):
    """Says every ``workers.BEAT_S`` seconds, in the database, that this worker process is
    alive (and with which sandbox and threads), until stopped; a clean stop removes its row.
    A database that is away is only logged: the beat resumes when it answers."""

    def __init__(self, app: Flask, *, sandbox: str, threads: int) -> None:
        super().__init__(name="skillforge-heartbeat", daemon=True)
        self.app, self.sandbox, self.threads = app, sandbox, threads
        self.started_at = datetime.now(UTC)
        host, pid = socket.gethostname(), os.getpid()
        self.host, self.pid = host, pid
        self.worker_id = f"{host}:{pid}:{self.started_at.timestamp():.0f}"
        self.halt = threading.Event()

    def beat(self) -> None:
        with self.app.app_context():
            try:
                workers.beat(
                    db.session(),
                    worker_id=self.worker_id,
                    host=self.host,
                    pid=self.pid,
                    sandbox=self.sandbox,
                    threads=self.threads,
                    started_at=self.started_at,
                    now=datetime.now(UTC),
                )
                db.session.commit()
            except Exception as exc:  # the database is away: say so, keep beating
                db.session.rollback()
                log.warning("grading worker heartbeat not recorded: %s", exc)

    def run(self) -> None:
        while not self.halt.is_set():
            self.beat()
            self.halt.wait(workers.BEAT_S)

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=workers.BEAT_S)
        with self.app.app_context():
            try:
                workers.stopped(db.session(), self.worker_id)
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                log.warning("grading worker heartbeat not removed: %s", exc)


def _app_for_job() -> Flask:
    if _app is None:
        raise RuntimeError(
            "jobs run inside `flask worker` (or `skillforge serve`), which binds the app"
        )
    return _app


@queue.task(retries=2, retry_delay=5)
def grade_submission(submission_id: int) -> None:
    """Grade one stored submission; does nothing when another worker has it or it is graded."""
    with _app_for_job().app_context():
        run_grading(submission_id)


def run_grading(submission_id: int) -> bool:
    """The grading use case in this app context, committed; False when it was not ours."""
    session = db.session()
    settings = settings_of(current_app)
    try:
        graded = grading.grade_submission(
            session,
            submission_id,
            get_grader(current_app),
            now=datetime.now(UTC),
            lease=settings.grader_lease,
            courses_path=settings.courses_path,
            commit=session.commit,
        )
    except Exception:
        session.rollback()
        raise
    session.commit()
    return graded


@queue.task(retries=1, retry_delay=30)
def make_worked_examples() -> None:
    """Make the outputs of one notebook content waiting for them, then queue the next: one
    notebook per job, so submissions queued meanwhile are graded between two of them."""
    with _app_for_job().app_context():
        if run_worked_examples() is not None and worked.pending(db.session)[0]:
            make_worked_examples()


def run_worked_examples(
    grader: Grader | None = None, *, among: list[str] | None = None
) -> WorkedExamples | None:
    """Make one waiting content's outputs (of ``among`` only, when given) in this app context,
    committed, with ``grader`` (default: this worker's); None when none waits. The job and
    ``courses outputs`` both make them through here."""
    session = db.session()
    settings = settings_of(current_app)
    try:
        content_hash = worked.claim_next(
            session, now=datetime.now(UTC), lease=settings.grader_lease, among=among
        )
        session.commit()
        if content_hash is None:
            return None
        row = worked.make(
            session,
            content_hash,
            grader or get_grader(current_app),
            courses_path=settings.courses_path,
            max_bytes=settings.worked_max_bytes,
            now=lambda: datetime.now(UTC),
            commit=session.commit,
        )
    except Exception:
        session.rollback()
        raise
    session.commit()
    return row


@queue.task()
def compute_plan(run_id: int) -> None:
    """Solve one requested training plan; does nothing when another worker has it."""
    with _app_for_job().app_context():
        run_plan(run_id)


def run_plan(run_id: int) -> bool:
    """The plan use case in this app context, committed; False when it was not ours to solve.
    The job and the ``staffing plan`` command both solve through here."""
    session = db.session()
    try:
        run = runs.claim(session, run_id, now=datetime.now(UTC))
        session.commit()
        if run is None:
            return False
        runs.compute(
            session,
            run,
            what_if_time_s=settings_of(current_app).plan_what_if_s,
            commit=session.commit,
            now=lambda: datetime.now(UTC),
        )
    except Exception:
        session.rollback()
        raise
    session.commit()
    return True


@queue.task()
def check_import(run_id: int) -> None:
    """Check an uploaded CSV file (a preview, or its problems); nothing of it is written."""
    with _app_for_job().app_context():
        run_import_step(run_id, imports.check)


@queue.task()
def apply_import(run_id: int) -> None:
    """Write a confirmed CSV import, whole or not at all."""
    with _app_for_job().app_context():
        run_import_step(run_id, imports.apply)


def run_import_step(run_id: int, step: Callable[..., object]) -> object:
    """One step of an import in this app context, committed (the jobs and the command)."""
    session = db.session()
    try:
        done = step(
            session,
            run_id,
            now=lambda: datetime.now(UTC),
            lease=settings_of(current_app).grader_lease,
            commit=session.commit,
        )
    except Exception:
        session.rollback()
        raise
    session.commit()
    return done


def requeue_stalled_imports() -> list[int]:
    session = db.session()
    found = imports.stalled(
        session,
        now=datetime.now(UTC),
        lease=settings_of(current_app).grader_lease,
        queued_for=timedelta(minutes=2),
    )
    session.rollback()
    waiting = already_queued(check_import) | already_queued(apply_import)
    again = [(i, status) for i, status in found if i not in waiting]
    for run_id, status in again:
        (check_import if status == "checking" else apply_import)(run_id)
    if again:
        log.warning("queued stalled imports again: %s", again)
    return [i for i, _ in again]


@queue.periodic_task(crontab(minute="*"))
def recover_stalled() -> None:
    """Queue again the submissions whose worker died mid-job or whose job never arrived, the
    worked examples still waiting for their outputs, and plans likewise lost."""
    with _app_for_job().app_context():
        requeue_stalled()
        requeue_stalled_plans()
        requeue_stalled_imports()
        queued, running = worked.pending(db.session)
        db.session.rollback()
        if queued and not running:  # the chain of jobs was lost (or never started)
            make_worked_examples()


@queue.periodic_task(crontab(hour="3", minute="17"))
def daily_housekeeping() -> None:
    """Prune what the RETENTION_* settings no longer keep (see services/housekeeping.py)."""
    with _app_for_job().app_context():
        pruned = run_housekeeping()
        log.info("housekeeping: %s", pruned.describe())


def run_housekeeping(*, dry_run: bool = False) -> housekeeping.Pruned:
    """The housekeeping use case in this app context, committed (the job and the command)."""
    settings = settings_of(current_app)
    session = db.session()
    try:
        database = housekeeping.prune_database(
            session, settings.retention, now=datetime.now(UTC), dry_run=dry_run
        )
    except Exception:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
    else:
        session.commit()
    files = housekeeping.prune_render_cache(
        settings.render_cache_path,
        settings.retention,
        renderer_version=rendering.RENDERER_VERSION,
        dry_run=dry_run,
    )
    return replace(database, render_files=files.render_files, render_bytes=files.render_bytes)


@queue.signal(signals.SIGNAL_INTERRUPTED)
def hand_back(signal: str, task: Task) -> None:
    """A job still running when its worker stops (SIGTERM, after GRADER_SHUTDOWN_S) goes back to
    the queue at once, for another worker, instead of waiting out the lease."""
    with _app_for_job().app_context():
        session = db.session()
        if isinstance(task, grade_submission.task_class):
            back = submissions.hand_back(session, int(task.args[0]))
            again: Callable[..., object] = grade_submission
        elif isinstance(task, compute_plan.task_class):
            back = runs.hand_back(session, int(task.args[0]))
            again = compute_plan
        elif isinstance(task, check_import.task_class | apply_import.task_class):
            back = imports.hand_back(session, int(task.args[0]))
            again = check_import if isinstance(task, check_import.task_class) else apply_import
        else:
            return
        session.commit()
        if back:
            log.warning("handed %s%r back to the queue", task.name, task.args)
            enqueue(again, *task.args)


def requeue_stalled() -> list[int]:
    session = db.session()
    ids = submissions.stalled(
        session,
        now=datetime.now(UTC),
        lease=settings_of(current_app).grader_lease,
        queued_for=timedelta(minutes=2),
    )
    session.rollback()
    waiting = already_queued(grade_submission)
    ids = [i for i in ids if i not in waiting]  # a long backlog is not queued again each minute
    for submission_id in ids:
        grade_submission(submission_id)
    if ids:
        log.warning("queued stalled submissions again: %s", ids)
    return ids


def already_queued(task: Any) -> set[int]:
    """The ids whose job of this kind waits in the queue or its schedule (retries)."""
    waiting = [*queue.pending(), *queue.scheduled()]
    return {int(t.args[0]) for t in waiting if isinstance(t, task.task_class) and t.args}


def requeue_stalled_plans() -> list[int]:
    session = db.session()
    limit = settings_of(current_app).plan.time_limit_s
    ids = runs.stalled(
        session,
        now=datetime.now(UTC),
        queued_for=timedelta(minutes=2),
        running_for=timedelta(seconds=max(600.0, 4 * limit)),
    )
    session.commit()
    waiting = already_queued(compute_plan)
    ids = [i for i in ids if i not in waiting]
    for run_id in ids:
        compute_plan(run_id)
    if ids:
        log.warning("queued stalled plans again: %s", ids)
    return ids
