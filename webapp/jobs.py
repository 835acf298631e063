"""Background jobs (Huey): grading submissions, and recovering jobs whose worker died.

Jobs take ids only, push an app context, call services, and commit or roll back. A job's
signature is a deploy contract: new arguments must be optional keywords.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
from flask import Flask, current_app
from huey import crontab
from huey.storage import RedisStorage, SqliteStorage

from webapp.db import db
from webapp.extensions import queue
from webapp.grading.autograde import Grader, GraderConfig, GradeResult
from webapp.models import Notebook, NotebookVersion, Submission, Workshop
from webapp.services.learning import progress, submissions

log = logging.getLogger(__name__)
_app: Flask | None = None
_grader: Grader | None = None
_grader_lock = threading.Lock()


def configure_queue(app: Flask) -> None:
    """Point the queue at its storage: QUEUE_URL, else Redis when REDIS_URL is set, else SQLite."""
    url = app.config.get("QUEUE_URL") or app.config.get("REDIS_URL")
    if url and url.startswith("redis"):
        queue.storage_class, queue.storage_kwargs = RedisStorage, {"url": url}
    else:
        path = urlsplit(url).path if url else str(Path(app.instance_path) / "queue.sqlite3")
        queue.storage_class, queue.storage_kwargs = SqliteStorage, {"filename": path}
    queue.storage = queue.create_storage()


def bind_app(app: Flask) -> None:
    """Give jobs the worker's app (consumer threads have no app context of their own)."""
    global _app
    _app = app


def grader_config(app: Flask) -> GraderConfig:
    c = app.config
    return GraderConfig(
        kernel_python=c["GRADER_KERNEL_PYTHON"],
        cell_timeout=float(c["GRADER_CELL_TIMEOUT"]),
        notebook_timeout=float(c["GRADER_NOTEBOOK_TIMEOUT"]),
        memory_mb=int(c["GRADER_MEMORY_MB"]),
        pool_size=int(c["GRADER_POOL_SIZE"]),
        allow_unsandboxed=bool(c["GRADER_ALLOW_UNSANDBOXED"]),
    )


def get_grader(app: Flask) -> Grader:
    """The worker process's grader (one warm kernel pool per process), started on first use."""
    global _grader
    with _grader_lock:
        if _grader is None:
            _grader = Grader(grader_config(app))
        return _grader


def close_grader() -> None:
    global _grader
    with _grader_lock:
        if _grader is not None:
            _grader.close()
            _grader = None


def _app_for_job() -> Flask:
    if _app is None:
        raise RuntimeError(
            "jobs run inside `flask worker` (or `skillforge serve`), which binds the app"
        )
    return _app


@queue.task(retries=2, retry_delay=5)
def grade_submission(submission_id: int) -> None:
    """Grade one stored submission; does nothing when another worker has it or it is graded."""
    app = _app_for_job()
    with app.app_context():
        run_grading(submission_id)


def run_grading(submission_id: int) -> bool:
    """Claim, grade and record; returns False when the submission was not ours to grade."""
    lease = timedelta(seconds=current_app.config["GRADER_LEASE_S"])
    if not submissions.claim(db.session, submission_id, now=datetime.now(UTC), lease=lease):
        db.session.rollback()
        return False
    db.session.commit()  # the claim is visible to other workers before the slow part
    submission = db.session.get(Submission, submission_id)
    assert submission is not None
    version = db.session.get(NotebookVersion, submission.version_id)
    assert version is not None
    source = nbformat.from_dict(version.source)
    student_nb = nbformat.from_dict(submission.notebook)
    data_dir = _data_dir(version)
    db.session.commit()  # never hold a transaction across executing a notebook
    try:
        result = get_grader(current_app).grade(source, student_nb, data_dir=data_dir)
    except Exception as exc:  # the grader itself failed: record it so the page says so
        log.exception("grading submission %s failed", submission_id)
        submission = db.session.get(Submission, submission_id)
        assert submission is not None
        submissions.record_failure(db.session, submission, f"The grader failed: {exc}")
        db.session.commit()
        raise
    submission = db.session.get(Submission, submission_id)
    assert submission is not None
    submissions.record_outcome(db.session, submission, to_outcome(result))
    progress.update_progress(db.session, submission)
    db.session.commit()
    return True


def to_outcome(result: GradeResult) -> submissions.Outcome:
    cells = tuple(
        submissions.CellOutcome(c.grade_id, c.points, c.max_points, c.status, c.message)
        for c in result.cells.values()
    )
    return submissions.Outcome(
        cells, result.tampered, dict(result.feedback), result.sandbox, result.grader_version
    )


def _data_dir(version: NotebookVersion) -> Path | None:
    notebook = db.session.get(Notebook, version.notebook_id)
    workshop = db.session.get(Workshop, notebook.workshop_id) if notebook else None
    if workshop is None:
        return None
    folder = Path(current_app.config["COURSES_PATH"]) / workshop.slug
    return folder if folder.is_dir() else None


@queue.periodic_task(crontab(minute="*"))
def recover_stalled() -> None:
    """Queue again the submissions whose worker died mid-job or whose job never arrived."""
    app = _app_for_job()
    with app.app_context():
        requeue_stalled()


def requeue_stalled() -> list[int]:
    lease = timedelta(seconds=current_app.config["GRADER_LEASE_S"])
    ids = submissions.stalled(
        db.session, now=datetime.now(UTC), lease=lease, queued_for=timedelta(minutes=2)
    )
    db.session.rollback()
    for submission_id in ids:
        grade_submission(submission_id)
    if ids:
        log.warning("queued %d stalled submission(s) again: %s", len(ids), ids)
    return ids
