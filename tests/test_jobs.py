"""Grading off the request thread: the queue (SQLite and Redis), workers, and recovery.

These run real notebooks in the real sandbox through real queue storage.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import time_machine
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import app_config
from tests.factories import ADD_NOTEBOOK as ADD
from tests.factories import make_notebook_version, make_user
from webapp import create_app, jobs
from webapp.db import db as _db
from webapp.extensions import queue
from webapp.models import (
    EvidenceSource,
    ExerciseResult,
    Skill,
    SkillCategory,
    SkillEvidence,
    Submission,
    WorkshopProgress,
)
from webapp.services.learning import submissions

pytestmark = pytest.mark.sandbox


# The Redis database this test run may empty (.ci/run gives each concurrent pass its own).
REDIS_TEST_DB = int(os.environ.get("SKILLFORGE_TEST_REDIS_DB", "15"))


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _db.session.rollback()  # see other connections' commits
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def worker_env(app: Flask, **settings: object) -> dict[str, str]:
    """The environment of a `flask worker` process on the suite's database and queue."""
    return {
        **os.environ,
        "SKILLFORGE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SKILLFORGE_QUEUE_URL": app.config["QUEUE_URL"],
        "SKILLFORGE_SECRET_KEY": "test",
        "SKILLFORGE_GRADER_POOL_SIZE": "1",
        **{f"SKILLFORGE_{k}": str(v) for k, v in settings.items()},
    }


def status_of(submission_id: int) -> str:
    return _db.session.scalar(select(Submission.status).where(Submission.id == submission_id)) or ""


@pytest.fixture()
def skill(db: object) -> Skill:
    category = SkillCategory(code="data", name="Data")
    skill = Skill(code="adding", name="Adding", category=category)
    _db.session.add(skill)
    _db.session.flush()
    return skill


def stored_submission(
    version_source: dict[str, object],
    answer: str,
    *,
    skill: Skill | None = None,
    mode: str = "final",
) -> Submission:
    """An engineer's submission, stored and committed as the web layer does before queueing."""
    number = (_db.session.scalar(select(func.count(Submission.id))) or 0) + 1
    version = make_notebook_version(version_source, slug=f"adding-{number}", skill=skill)
    user = make_user(email=f"e{version.id}@example.com")
    nb = submissions.notebook_from_answers(version.student, {"answer": answer})
    submission = submissions.create_submission(
        _db.session, user=user, version=version, nb=nb, mode=mode
    )
    _db.session.commit()
    return submission


def test_passing_submission_is_graded_through_the_queue_and_verifies_the_skill(
    consumer: None, skill: Skill
) -> None:
    submission = stored_submission(ADD, "def add(a, b):\n    return a + b", skill=skill)
    assert status_of(submission.id) == "queued"  # stored before it is queued
    jobs.grade_submission(submission.id)
    wait_for(lambda: status_of(submission.id) == "graded", "the grade")
    graded = _db.session.get(Submission, submission.id)
    assert graded is not None and graded.score == 2 and graded.sandbox == "bwrap-root"
    progress = _db.session.scalar(
        select(WorkshopProgress).where(WorkshopProgress.user_id == graded.user_id)
    )
    assert progress is not None and progress.passed_at is not None and progress.best_score == 1
    evidence = _db.session.scalar(
        select(SkillEvidence).where(SkillEvidence.user_id == graded.user_id)
    )
    assert evidence is not None
    assert (evidence.source, evidence.level, evidence.submission_id) == (
        EvidenceSource.WORKSHOP.value,
        3,
        submission.id,
    )


def test_failing_submission_scores_zero_and_earns_no_evidence(consumer: None, skill: Skill) -> None:
    submission = stored_submission(ADD, "def add(a, b):\n    return a - b", skill=skill)
    jobs.grade_submission(submission.id)
    wait_for(lambda: status_of(submission.id) == "graded", "the grade")
    result = _db.session.scalar(
        select(ExerciseResult).where(ExerciseResult.submission_id == submission.id)
    )
    assert result is not None and result.points == 0 and result.status == "failed"
    assert "AssertionError" in (result.message or "")
    assert "add(-1, 1)" not in (result.message or "")  # the hidden test stays hidden
    assert _db.session.scalar(select(func.count(SkillEvidence.id))) == 0


def test_grading_the_same_submission_twice_gives_one_result(app: Flask, db: object) -> None:
    submission = stored_submission(ADD, "def add(a, b):\n    return a + b")
    assert jobs.run_grading(submission.id) is True
    assert jobs.run_grading(submission.id) is False
    count = _db.session.scalar(
        select(func.count(ExerciseResult.id)).where(ExerciseResult.submission_id == submission.id)
    )
    assert count == 1


def test_redis_queue_feeds_a_worker(app: Flask, db: object) -> None:
    url, original = f"redis://127.0.0.1:6379/{REDIS_TEST_DB}", app.config["QUEUE_URL"]
    redis.Redis.from_url(url).flushdb()
    app.config["QUEUE_URL"] = url
    jobs.configure_queue(app)
    try:
        submission = stored_submission(ADD, "def add(a, b):\n    return a + b")
        jobs.grade_submission(submission.id)
        assert queue.pending_count() == 1  # the job sits in Redis until a worker takes it
        jobs.bind_app(app)
        worker = queue.create_consumer(workers=1, worker_type="thread", periodic=False)
        worker.start()
        try:
            wait_for(lambda: status_of(submission.id) == "graded", "the grade from Redis")
        finally:
            worker.stop(graceful=True)
        assert queue.pending_count() == 0
    finally:
        redis.Redis.from_url(url).flushdb()
        app.config["QUEUE_URL"] = original
        jobs.configure_queue(app)


def test_building_another_app_leaves_the_queue_where_jobs_already_go(
    app: Flask, tmp_path: Path
) -> None:
    storage = queue.storage
    other = create_app(
        app_config(
            f"sqlite:///{tmp_path / 'other.db'}",
            QUEUE_URL=f"redis://127.0.0.1:6379/{REDIS_TEST_DB}",
        )
    )
    with other.app_context():
        _db.engine.dispose()
    assert queue.storage is storage


def test_job_of_a_killed_worker_runs_again_and_nothing_is_lost(
    app: Flask, db: object, override_settings: Callable[..., None]
) -> None:
    slow = "import time\ntime.sleep(4)\ndef add(a, b):\n    return a + b"
    submission = stored_submission(ADD, slow)
    env = worker_env(app, GRADER_LEASE_S=3)
    command = [sys.executable, "-m", "flask", "--app", "webapp", "worker", "--workers", "1"]
    jobs.grade_submission(submission.id)
    first = subprocess.Popen(
        command,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: status_of(submission.id) == "running", "the first worker to start")
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the worker dies mid-job
        first.wait()
    assert status_of(submission.id) == "running"
    second = subprocess.Popen(
        command,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        override_settings(GRADER_LEASE_S=3)
        with app.app_context():
            wait_for(lambda: bool(jobs.requeue_stalled()), "the lease to run out", timeout=30)
        wait_for(lambda: status_of(submission.id) == "graded", "the second worker's grade")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    _db.session.rollback()  # read the row as committed, not an object this session loaded
    status, score = _db.session.execute(
        select(Submission.status, Submission.score).where(Submission.id == submission.id)
    ).one()
    assert (status, score) == ("graded", 2)
    count = _db.session.scalar(
        select(func.count(ExerciseResult.id)).where(ExerciseResult.submission_id == submission.id)
    )
    assert count == 1


def test_a_worker_stopped_with_sigterm_hands_its_running_grade_back_at_once(
    app: Flask, db: object
) -> None:
    # What systemd, Docker and Kubernetes do to stop a worker. The grade outlasts the worker's
    # shutdown grace, so it is handed back and the next worker grades it, with a 15-minute lease
    # that would otherwise keep it "running" long after the worker is gone.
    slow = "import time\ntime.sleep(6)\ndef add(a, b):\n    return a + b"
    submission = stored_submission(ADD, slow)
    env = worker_env(app, GRADER_LEASE_S=900, GRADER_SHUTDOWN_S=1)
    command = [sys.executable, "-m", "flask", "--app", "webapp", "worker", "--workers", "1"]
    jobs.grade_submission(submission.id)
    first = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: status_of(submission.id) == "running", "the first worker to start")
        os.kill(first.pid, signal.SIGTERM)
        assert first.wait(timeout=30) == 0  # it exits by itself, within its grace
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
    _db.session.rollback()  # see the worker's commits
    assert status_of(submission.id) == "queued"
    waiting = [t.args for t in queue.pending() if t.name == "grade_submission"]
    assert waiting == [(submission.id,)]  # queued again at once, not after the lease
    second = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: status_of(submission.id) == "graded", "the second worker's grade")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    _db.session.rollback()
    count = _db.session.scalar(
        select(func.count(ExerciseResult.id)).where(ExerciseResult.submission_id == submission.id)
    )
    assert count == 1


def test_stalled_lists_only_lost_jobs(db: object) -> None:
    now = datetime.now(UTC)
    fresh = stored_submission(ADD, "pass")
    old_running = stored_submission(ADD, "pass")
    old_running.status, old_running.started_at = "running", now - timedelta(hours=1)
    _db.session.commit()
    found = submissions.stalled(
        _db.session, now=now, lease=timedelta(minutes=15), queued_for=timedelta(minutes=2)
    )
    assert found == [old_running.id]
    assert fresh.id not in found


def test_grader_version_fits_the_column_it_is_stored_in() -> None:
    from webapp.grading.autograde import GRADER_VERSION

    assert len(GRADER_VERSION) <= Submission.__table__.c.grader_version.type.length


def test_recovery_queues_a_lost_job_once_and_leaves_waiting_ones_alone(
    app: Flask, db: object
) -> None:
    # A backlog that waits for busy workers is not lost: queueing it again every minute only
    # piled up duplicates (83 at once in a soak test).
    queue.flush()
    waiting = stored_submission(ADD, "def add(a, b):\n    return a + b")
    lost = stored_submission(ADD, "def add(a, b):\n    return a + b")
    jobs.grade_submission(waiting.id)  # its job is in the queue; lost's never arrived
    later = datetime.now(UTC) + timedelta(minutes=3)
    try:
        with app.app_context(), time_machine.travel(later):
            assert jobs.requeue_stalled() == [lost.id]
            assert jobs.requeue_stalled() == []  # a minute on: both jobs wait, none is added
        grades = sorted(t.args[0] for t in queue.pending() if t.name == "grade_submission")
        assert grades == sorted([waiting.id, lost.id])
    finally:
        queue.flush()
