"""The grading use case: claim, read, grade in the real sandbox, score, record; and its failures.

The grader is the real sandboxed one (the worker process's warm pool); ``Watched`` only looks at
the database from outside while the real grader runs, to check what other workers would see.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from nbformat import NotebookNode
from sqlalchemy import func, select

from tests.factories import ADD_NOTEBOOK as ADD
from tests.factories import make_notebook_version, make_user, nbgrader_notebook
from webapp import jobs
from webapp.db import db as _db
from webapp.grading.autograde import Grader, GradeResult
from webapp.models import (
    ExerciseResult,
    Skill,
    SkillCategory,
    SkillEvidence,
    Submission,
    WorkshopProgress,
)
from webapp.services.learning import grading, submissions
from webapp.settings import settings_of

pytestmark = pytest.mark.sandbox
RIGHT = "def add(a, b):\n    return a + b"
LEASE = timedelta(minutes=15)


@dataclasses.dataclass
class Watched:
    """The real grader, noting while it runs whether the session holds a transaction and what
    status another connection (another worker) reads for the submission."""

    grader: Grader
    submission_id: int
    seen: list[tuple[bool, str | None]] = dataclasses.field(default_factory=list)

    def grade(
        self, source: NotebookNode, submission: NotebookNode, *, data_dir: Path | None = None
    ) -> GradeResult:
        with _db.engine.connect() as other:
            status = other.scalar(
                select(Submission.status).where(Submission.id == self.submission_id)
            )
        self.seen.append((_db.session().in_transaction(), status))
        return self.grader.grade(source, submission, data_dir=data_dir)


def stored(source: dict[str, object], answer: str, *, skill: Skill | None = None) -> Submission:
    """A final submission, stored and committed as the web layer does before queueing it."""
    number = (_db.session.scalar(select(func.count(Submission.id))) or 0) + 1
    version = make_notebook_version(source, slug=f"adding-{number}", skill=skill)
    user = make_user(email=f"grading{number}@example.com")
    nb = submissions.notebook_from_answers(version.student, {"answer": answer})
    submission = submissions.create_submission(
        _db.session, user=user, version=version, nb=nb, mode="final"
    )
    _db.session.commit()
    return submission


def grade(submission_id: int, grader: grading.Grader, courses: Path) -> bool:
    """The use case as the job calls it, committing at its boundaries and at the end."""
    graded = grading.grade_submission(
        _db.session(),
        submission_id,
        grader,
        now=datetime.now(UTC),
        lease=LEASE,
        courses_path=courses,
        commit=_db.session.commit,
    )
    _db.session.commit()
    return graded


def test_a_right_answer_is_graded_scored_and_earns_the_pass_and_the_skill(
    app: Flask, db: object, tmp_path: Path
) -> None:
    skill = Skill(code="adding", name="Adding", category=SkillCategory(code="m", name="Maths"))
    _db.session.add(skill)
    submission = stored(ADD, RIGHT, skill=skill)
    assert grade(submission.id, jobs.get_grader(app), tmp_path) is True
    graded = _db.session.get(Submission, submission.id)
    assert graded is not None and graded.status == "graded" and graded.sandbox == "bwrap-root"
    assert (graded.score, graded.max_score, graded.needs_review) == (2, 2, False)
    result = _db.session.scalar(select(ExerciseResult))
    assert result is not None and (result.grade_id, result.status) == ("check", "passed")
    progress = _db.session.scalar(select(WorkshopProgress))
    assert progress is not None and progress.best_score == 1 and progress.passed_at is not None
    evidence = _db.session.scalar(select(SkillEvidence))
    assert evidence is not None and evidence.submission_id == submission.id


def test_the_claim_is_visible_and_no_transaction_is_open_while_the_notebook_runs(
    app: Flask, db: object, tmp_path: Path
) -> None:
    submission = stored(ADD, RIGHT)
    watched = Watched(jobs.get_grader(app), submission.id)
    assert grade(submission.id, watched, tmp_path) is True
    assert watched.seen == [(False, "running")]


def test_a_submission_is_graded_once_and_one_another_worker_holds_is_left_alone(
    app: Flask, db: object, tmp_path: Path
) -> None:
    done, held = stored(ADD, RIGHT), stored(ADD, RIGHT)
    assert grade(done.id, jobs.get_grader(app), tmp_path) is True
    assert submissions.claim(_db.session, held.id, now=datetime.now(UTC), lease=LEASE)
    _db.session.commit()
    for submission in (done, held):
        watched = Watched(jobs.get_grader(app), submission.id)
        assert grade(submission.id, watched, tmp_path) is False
        assert watched.seen == []  # the grader never ran
    assert _db.session.scalar(select(func.count(ExerciseResult.id))) == 1
    assert _db.session.scalar(select(Submission.status).where(Submission.id == held.id)) == (
        "running"
    )


def test_checks_that_cannot_finish_are_run_again_then_marked_not_graded_and_not_counted(
    app: Flask, db: object, tmp_path: Path
) -> None:
    # An instructor cell that never ends: the grader's fault, never the engineer's.
    stuck = "import time\nwhile True:\n    time.sleep(0.2)"
    submission = stored(nbgrader_notebook(RIGHT, "assert add(1, 2) == 3", stuck), RIGHT)
    config = dataclasses.replace(settings_of(app).grader, notebook_timeout=4, pool_size=2)
    with Grader(config) as grader:
        watched = Watched(grader, submission.id)
        assert grade(submission.id, watched, tmp_path) is True
    assert len(watched.seen) == 2  # run once more, then given up
    failed = _db.session.get(Submission, submission.id)
    assert failed is not None and (failed.status, failed.grading_runs) == ("error", 2)
    assert failed.error == "the hidden checks could not finish, on every try"
    assert failed.score is None and failed.graded_at is not None
    assert _db.session.scalar(select(func.count(ExerciseResult.id))) == 0
    assert _db.session.scalar(select(func.count(WorkshopProgress.user_id))) == 0  # no attempt


# The answer's kernel names itself while it sleeps, with a name of this test run's own (another
# run of the suite beside this one must never see it): at most 15 characters, as Linux keeps.
NAME = f"ans{secrets.token_hex(6)}"
KILLABLE = (
    "import time\n"
    f"open('/proc/self/comm', 'w').write('{NAME}')\n"
    "time.sleep(4)\n"
    "def add(a, b):\n    return a + b"
)


def kill_the_answer_kernel(times: int) -> threading.Thread:
    """From outside, as an operator or the host's OOM killer would: SIGKILL the kernel running
    the answer (it names itself ``NAME`` while it sleeps) ``times`` times."""

    def killer() -> None:
        killed, deadline = 0, time.monotonic() + 120
        while killed < times and time.monotonic() < deadline:
            for comm in Path("/proc").glob("[0-9]*/comm"):
                with contextlib.suppress(OSError):
                    if comm.read_text().strip() == NAME:
                        os.kill(int(comm.parent.name), signal.SIGKILL)
                        killed += 1
                        break
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    return thread


def test_a_kernel_killed_from_outside_is_graded_again_and_scored_on_the_second_run(
    app: Flask, db: object, tmp_path: Path
) -> None:
    submission = stored(ADD, KILLABLE)
    killer = kill_the_answer_kernel(times=1)
    watched = Watched(jobs.get_grader(app), submission.id)
    assert grade(submission.id, watched, tmp_path) is True
    killer.join(timeout=5)
    assert not killer.is_alive()  # it did kill the first run's kernel
    graded = _db.session.get(Submission, submission.id)
    assert graded is not None and (graded.status, graded.score, graded.grading_runs) == (
        "graded",
        2,
        2,
    )
    progress = _db.session.scalar(select(WorkshopProgress))
    assert progress is not None and progress.attempts == 1


def test_a_kernel_killed_from_outside_twice_is_not_graded_and_not_counted(
    app: Flask, db: object, tmp_path: Path
) -> None:
    # Before: graded 0 with "killed: the kernel was terminated", counted as an attempt.
    submission = stored(ADD, KILLABLE)
    killer = kill_the_answer_kernel(times=2)
    assert grade(submission.id, jobs.get_grader(app), tmp_path) is True
    killer.join(timeout=5)
    failed = _db.session.get(Submission, submission.id)
    assert failed is not None and (failed.status, failed.score) == ("error", None)
    assert failed.error == (
        "the kernel running your answers was stopped from outside your notebook, on every try"
    )
    assert _db.session.scalar(select(func.count(ExerciseResult.id))) == 0
    assert _db.session.scalar(select(func.count(WorkshopProgress.user_id))) == 0


def test_a_kernel_its_own_code_ends_is_graded_as_the_engineers_answer(
    app: Flask, db: object, tmp_path: Path
) -> None:
    # os._exit is the answer's doing: graded (zero), counted, not run again.
    submission = stored(ADD, "import os\nos._exit(3)")
    watched = Watched(jobs.get_grader(app), submission.id)
    assert grade(submission.id, watched, tmp_path) is True
    assert len(watched.seen) == 1
    graded = _db.session.get(Submission, submission.id)
    assert graded is not None and (graded.status, graded.score) == ("graded", 0)


def test_a_grade_whose_workers_were_lost_each_time_is_given_up_without_running(
    app: Flask, db: object, tmp_path: Path
) -> None:
    submission = stored(ADD, RIGHT)
    for n in range(grading.MAX_GRADING_RUNS):  # claimed, and each worker died mid-grade
        then = datetime.now(UTC) - (2 * grading.MAX_GRADING_RUNS - 2 * n) * LEASE
        assert submissions.claim(_db.session, submission.id, now=then, lease=LEASE) == n + 1
        _db.session.commit()
    watched = Watched(jobs.get_grader(app), submission.id)
    assert grade(submission.id, watched, tmp_path) is True
    assert watched.seen == []
    lost = _db.session.get(Submission, submission.id)
    assert lost is not None and lost.status == "error"
    assert lost.error == "the grading worker stopped before it finished, on every try"


def test_the_workshop_folder_is_handed_to_the_grader_only_when_it_exists(
    db: object, tmp_path: Path
) -> None:
    submission = stored(ADD, RIGHT)
    work = grading.read_work(_db.session(), submission.id, courses_path=tmp_path)
    assert work.data_dir is None
    assert work.submission.cells[0].source == RIGHT
    assert "BEGIN HIDDEN TESTS" in work.source.cells[1].source
    (tmp_path / "adding-1").mkdir()
    work = grading.read_work(_db.session(), submission.id, courses_path=tmp_path)
    assert work.data_dir == tmp_path / "adding-1"
