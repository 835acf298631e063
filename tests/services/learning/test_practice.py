"""Practice runs ("Run tests"): one in flight per engineer and notebook, a limit per hour, and
neither rule touches Submit; a refused run stores nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.conftest import Org
from tests.factories import make_notebook_version, nbgrader_notebook
from webapp.db import db as _db
from webapp.models import Draft, NotebookVersion, Submission, User
from webapp.services.errors import PracticeRunRefused
from webapp.services.learning import practice, submissions

SOURCE = nbgrader_notebook("def f():\n    return 1", "assert f() == 1", "assert f() + 1 == 2")
START = datetime(2030, 3, 4, 13, 0, 30, tzinfo=UTC)


def run(
    user: User, version: NotebookVersion, mode: str = "check", *, per_hour: int = 10
) -> Submission:
    nb = submissions.notebook_from_answers(version.student, {})
    return submissions.create_submission(
        _db.session,
        user=user,
        version=version,
        nb=nb,
        mode=mode,
        practice_limit=practice.PracticeLimit(per_hour=per_hour),
    )


def grade(sub: Submission) -> None:
    assert submissions.claim(_db.session, sub.id, now=datetime.now(UTC), lease=timedelta(minutes=5))
    cell = submissions.CellOutcome("check", 2.0, 2.0, "passed", None)
    submissions.record_outcome(
        _db.session, sub, submissions.Outcome((cell,), (), {}, "bwrap-root", "test")
    )


def stored() -> int:
    return _db.session.scalar(select(func.count(Submission.id))) or 0


def standing(
    user: User, version: NotebookVersion, per_hour: int = 10
) -> practice.PracticeAllowance:
    return practice.allowance(
        _db.session,
        user_id=user.id,
        notebook_id=version.notebook_id,
        limit=practice.PracticeLimit(per_hour=per_hour),
        now=datetime.now(UTC),
    )


def test_a_second_practice_run_while_one_is_pending_is_refused_and_nothing_stored(
    org: Org,
) -> None:
    version = make_notebook_version(SOURCE)
    first = run(org.engineer, version)
    with pytest.raises(PracticeRunRefused, match=rf"\(#{first.id}\) is still being graded"):
        run(org.engineer, version)
    assert stored() == 1
    first.status = "running"
    with pytest.raises(PracticeRunRefused, match="Submit is not limited"):
        run(org.engineer, version)
    assert stored() == 1


def test_after_the_pending_run_is_graded_a_new_practice_run_is_accepted(org: Org) -> None:
    version = make_notebook_version(SOURCE)
    grade(run(org.engineer, version))
    second = run(org.engineer, version)
    assert second.id and stored() == 2
    assert standing(org.engineer, version).in_flight_id == second.id


def test_the_pending_rule_is_per_engineer_and_notebook_and_spans_versions(org: Org) -> None:
    version = make_notebook_version(SOURCE)
    other = make_notebook_version(SOURCE, slug="other")
    run(org.engineer, version)
    run(org.engineer, other)  # another notebook
    run(org.teammate, version)  # another engineer
    newer = NotebookVersion(
        notebook_id=version.notebook_id, content_hash="newer", source=SOURCE, student=SOURCE
    )
    _db.session.add(newer)
    _db.session.flush()
    with pytest.raises(PracticeRunRefused, match="still being graded"):
        run(org.engineer, newer)  # the catalog moved on; the run of the old version still waits
    assert stored() == 3


def test_submit_is_limited_by_neither_rule(org: Org) -> None:
    version = make_notebook_version(SOURCE)
    run(org.engineer, version, per_hour=1)
    for _ in range(3):
        assert run(org.engineer, version, "final", per_hour=1).mode == "final"
    with pytest.raises(PracticeRunRefused):
        run(org.engineer, version, per_hour=1)
    assert stored() == 4


def test_the_eleventh_practice_run_within_an_hour_is_refused_until_the_first_is_an_hour_old(
    org: Org,
) -> None:
    version = make_notebook_version(SOURCE)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(10):
            grade(run(org.engineer, version))
            clock.shift(timedelta(minutes=1))
        assert standing(org.engineer, version).left == 0
        clock.move_to(START + timedelta(minutes=50))
        with pytest.raises(PracticeRunRefused, match="run the tests again at 14:01 UTC"):
            run(org.engineer, version)
        assert stored() == 10
        clock.move_to(START + timedelta(hours=1, seconds=1))
        assert run(org.engineer, version).id
        assert stored() == 11


def test_the_limit_counts_practice_runs_of_every_notebook_but_not_submissions(org: Org) -> None:
    first, second = make_notebook_version(SOURCE), make_notebook_version(SOURCE, slug="second")
    grade(run(org.engineer, first, per_hour=2))
    grade(run(org.engineer, first, "final", per_hour=2))
    assert standing(org.engineer, second, per_hour=2).left == 1
    run(org.engineer, second, per_hour=2)
    with pytest.raises(PracticeRunRefused, match="used all 2 practice runs"):
        run(org.engineer, first, per_hour=2)
    assert standing(org.teammate, first, per_hour=2).left == 2  # per engineer


def test_the_page_sentence_says_what_is_left_and_when_more_come() -> None:
    fresh = practice.PracticeAllowance(per_hour=10, used=7, next_at=None, in_flight_id=None)
    assert fresh.describe() == (
        "You have 3 of 10 practice runs left this hour; Submit is not limited."
    )
    spent = practice.PracticeAllowance(
        per_hour=10, used=10, next_at=datetime(2030, 1, 1, 14, 4, 1, tzinfo=UTC), in_flight_id=None
    )
    assert "you can run the tests again at 14:05 UTC. Submit is not limited." in spent.describe()
    off = practice.PracticeAllowance(per_hour=0, used=0, next_at=None, in_flight_id=None)
    assert off.describe() == "Run tests is switched off here; Submit is not limited."


def test_the_database_refuses_two_pending_practice_runs_of_one_notebook(org: Org) -> None:
    version = make_notebook_version(SOURCE)
    row = {"user_id": org.engineer.id, "version_id": version.id, "notebook": {}, "mode": "check"}
    _db.session.execute(insert(Submission), [row])  # the notebook id is filled in from the version
    assert _db.session.scalar(select(Submission.notebook_id)) == version.notebook_id
    _db.session.execute(insert(Submission), [{**row, "status": "graded"}])
    with pytest.raises(IntegrityError):
        _db.session.execute(insert(Submission), [row])
    _db.session.rollback()


def test_a_run_that_loses_the_race_is_refused_and_the_transaction_stays_usable(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = make_notebook_version(SOURCE)
    winner = run(org.engineer, version)
    _db.session.commit()
    checks = iter([False])  # the loser's first check ran before the winner was stored
    real_check = practice.ensure_allowed

    def racing_check(*args: object, **kwargs: object) -> None:
        if next(checks, True):
            real_check(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(practice, "ensure_allowed", racing_check)
    submissions.save_draft(_db.session, user=org.engineer, version=version, answers={"answer": "x"})
    with pytest.raises(PracticeRunRefused, match=rf"\(#{winner.id}\) is still being graded"):
        run(org.engineer, version)
    _db.session.commit()  # the draft saved with the click is kept
    assert stored() == 1 and _db.session.scalar(select(func.count(Draft.id))) == 1


def test_two_simultaneous_practice_runs_store_one(org: Org) -> None:
    version = make_notebook_version(SOURCE)
    _db.session.commit()
    user_id, version_id, engine = org.engineer.id, version.id, _db.engine
    barrier, outcomes = threading.Barrier(2), []

    def click() -> None:
        with Session(engine) as session:
            user, ver = session.get(User, user_id), session.get(NotebookVersion, version_id)
            assert user is not None and ver is not None
            nb = submissions.notebook_from_answers(ver.student, {})
            barrier.wait()
            try:
                submissions.create_submission(session, user=user, version=ver, nb=nb, mode="check")
                session.commit()
                outcomes.append("stored")
            except PracticeRunRefused:
                session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "stored"]
    assert stored() == 1
