"""Exercise states, practice checks, hints and the next step, on the fixture catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import nbformat
import pytest
from sqlalchemy import select

from tests.conftest import Org
from webapp.db import db as _db
from webapp.models import HintUse, Notebook, User
from webapp.services.errors import Conflict, NotFound
from webapp.services.learning import exercises, hints, overview, submissions
from webapp.services.learning.exercises import (
    ATTEMPTED,
    NOT_STARTED,
    PASSED_GRADED,
    PASSED_IN_PRACTICE,
)

NOW = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


def states(user: User, notebook_id: int) -> dict[str, str]:
    found = exercises.exercise_states(_db.session, user_id=user.id, notebook_id=notebook_id)
    return {s.grade_id: s.state for s in found}


def attempt(user: User, notebook_id: int, mode: str, passed: set[str]) -> None:
    """A graded attempt of the tiny notebook passing the ``passed`` test cells."""
    version = submissions.current_version(_db.session, notebook_id)
    sub = submissions.create_submission(
        _db.session, user=user, version=version, nb=nbformat.from_dict(version.student), mode=mode
    )
    assert submissions.claim(_db.session, sub.id, now=NOW, lease=timedelta(minutes=5))
    cells = tuple(
        submissions.CellOutcome(
            ex.grade_id,
            ex.points if ex.grade_id in passed else 0.0,
            ex.points,
            "passed" if ex.grade_id in passed else "failed",
            None if ex.grade_id in passed else "AssertionError",
        )
        for ex in version.exercises
    )
    submissions.record_outcome(_db.session, sub, submissions.Outcome(cells, (), {}, "t", "t"))


def test_each_exercise_has_title_points_and_hint_count(org: Org, catalog: dict[str, int]) -> None:
    found = exercises.exercise_states(
        _db.session, user_id=org.engineer.id, notebook_id=catalog["tiny"]
    )
    assert [(s.grade_id, s.title, s.points, s.hints_total) for s in found] == [
        ("impl_mean", "Means and variances", 2.0, 2),
        ("impl_var", "Means and variances", 1.0, 0),
    ]
    assert [s.state for s in found] == [NOT_STARTED, NOT_STARTED]


def test_states_go_from_attempted_to_passed_in_practice_to_passed_in_a_graded_submission(
    org: Org, catalog: dict[str, int]
) -> None:
    nid, eve = catalog["tiny"], org.engineer
    exercises.record_check(
        _db.session, user_id=eve.id, notebook_id=nid, grade_id="impl_mean", passed=False, now=NOW
    )
    assert states(eve, nid) == {"impl_mean": ATTEMPTED, "impl_var": NOT_STARTED}
    exercises.record_check(
        _db.session, user_id=eve.id, notebook_id=nid, grade_id="impl_mean", passed=True, now=NOW
    )
    assert states(eve, nid)["impl_mean"] == PASSED_IN_PRACTICE
    attempt(eve, nid, "check", {"test_var"})  # "Run tests" is practice too
    assert states(eve, nid)["impl_var"] == PASSED_IN_PRACTICE
    attempt(eve, nid, "final", {"test_mean"})
    assert states(eve, nid) == {"impl_mean": PASSED_GRADED, "impl_var": PASSED_IN_PRACTICE}
    # another engineer's work is theirs alone
    assert set(states(org.teammate, nid).values()) == {NOT_STARTED}


def test_the_best_submission_decides_not_the_latest(org: Org, catalog: dict[str, int]) -> None:
    nid, eve = catalog["tiny"], org.engineer
    attempt(eve, nid, "final", {"test_mean", "test_var"})
    attempt(eve, nid, "final", set())
    assert set(states(eve, nid).values()) == {PASSED_GRADED}


def test_a_submitted_stub_is_not_an_attempt(org: Org, catalog: dict[str, int]) -> None:
    nid, eve = catalog["tiny"], org.engineer
    version = submissions.current_version(_db.session, nid)
    sub = submissions.create_submission(
        _db.session, user=eve, version=version, nb=nbformat.from_dict(version.student), mode="final"
    )
    submissions.claim(_db.session, sub.id, now=NOW, lease=timedelta(minutes=5))
    cells = tuple(
        submissions.CellOutcome(e.grade_id, 0.0, e.points, "failed", "NotImplementedError")
        for e in version.exercises
    )
    submissions.record_outcome(_db.session, sub, submissions.Outcome(cells, (), {}, "t", "t"))
    assert set(states(eve, nid).values()) == {NOT_STARTED}


def test_checking_an_unknown_exercise_is_not_found(org: Org, catalog: dict[str, int]) -> None:
    with pytest.raises(NotFound):
        exercises.record_check(
            _db.session,
            user_id=org.engineer.id,
            notebook_id=catalog["tiny"],
            grade_id="test_mean",  # a test cell, not an exercise
            passed=True,
            now=NOW,
        )


def test_hints_are_revealed_one_at_a_time_and_each_use_is_recorded(
    org: Org, catalog: dict[str, int]
) -> None:
    nid, eve = catalog["tiny"], org.engineer
    ask = dict(user_id=eve.id, notebook_id=nid, grade_id="impl_mean")
    first = hints.record_hint(_db.session, now=NOW, **ask)
    assert (first.number, first.total, first.markdown) == (1, 2, "Python has `sum` and `len`.")
    second = hints.record_hint(_db.session, now=NOW + timedelta(minutes=3), **ask)
    assert second.number == 2
    with pytest.raises(Conflict, match="every hint"):
        hints.record_hint(_db.session, now=NOW, **ask)
    uses = _db.session.execute(select(HintUse.number, HintUse.revealed_at)).all()
    assert sorted(uses) == [(1, NOW), (2, NOW + timedelta(minutes=3))]
    seen = hints.revealed_hints(_db.session, user_id=eve.id, notebook_id=nid)
    assert [h.number for h in seen["impl_mean"]] == [1, 2] and seen["impl_var"] == []
    assert hints.hint_use(_db.session, user_id=eve.id, notebook_id=nid) == [
        hints.HintUseRow("Means and variances", 2, 2)
    ]
    assert (
        hints.revealed_hints(_db.session, user_id=org.teammate.id, notebook_id=nid)["impl_mean"]
        == []
    )


def test_an_exercise_without_hints_has_none_to_show(org: Org, catalog: dict[str, int]) -> None:
    with pytest.raises(Conflict, match="no hints"):
        hints.record_hint(
            _db.session,
            user_id=org.engineer.id,
            notebook_id=catalog["tiny"],
            grade_id="impl_var",
            now=NOW,
        )


def test_first_failing_exercise_of_an_attempt(org: Org, catalog: dict[str, int]) -> None:
    found = exercises.first_failing(
        _db.session,
        notebook_id=catalog["tiny"],
        results=[("test_mean", "passed"), ("test_var", "failed")],
    )
    assert found is not None and found.grade_id == "impl_var"
    assert (
        exercises.first_failing(
            _db.session, notebook_id=catalog["tiny"], results=[("test_mean", "passed")]
        )
        is None
    )


def test_next_step_is_the_first_unfinished_exercise_of_the_last_notebook_worked_on(
    org: Org, catalog: dict[str, int]
) -> None:
    eve = org.engineer
    assert overview.next_exercise(_db.session, eve.id) is None
    tiny = catalog["tiny"]
    attempt(eve, tiny, "final", {"test_mean"})
    found = overview.next_exercise(_db.session, eve.id)
    assert found is not None
    assert (found.workshop_slug, found.notebook_id, found.state) == ("tiny", tiny, ATTEMPTED)
    var = next(
        s
        for s in exercises.exercise_states(_db.session, user_id=eve.id, notebook_id=tiny)
        if s.grade_id == "impl_var"
    )
    assert found.anchor == var.anchor == f"user-content-cell-id={var.cell_id}"
    attempt(eve, tiny, "final", {"test_mean", "test_var"})
    assert overview.next_exercise(_db.session, eve.id) is None
    _db.session.get(Notebook, tiny).archived = True
    assert overview.next_exercise(_db.session, eve.id) is None
