"""Submissions, progress and reviews, with grades given directly (no sandbox needed here)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import nbformat
import pytest
from sqlalchemy import func, select

from tests.conftest import Org
from tests.factories import make_notebook_version, nbgrader_notebook
from webapp.db import db as _db
from webapp.models import Skill, SkillCategory, SkillEvidence, Submission, WorkshopProgress
from webapp.services.errors import InvalidInput, NotFound, PermissionDenied
from webapp.services.learning import progress, reviews, submissions
from webapp.services.learning.progress import NotebookScore, workshop_share

SOURCE = nbgrader_notebook("def f():\n    return 1", "assert f() == 1", "assert f() + 1 == 2")


def outcome(points: float | None, status: str) -> submissions.Outcome:
    cell = submissions.CellOutcome("check", points, 2.0, status, None)
    return submissions.Outcome((cell,), (), {}, "bwrap-root", "test")


def graded(user_id: int, points: float | None, status: str = "passed", mode: str = "final"):  # noqa: ANN201
    version = _db.session.scalar(select(submissions.NotebookVersion)) or make_notebook_version(
        SOURCE
    )
    user = _db.session.get(submissions.User, user_id)
    nb = submissions.notebook_from_answers(version.student, {"answer": "def f():\n    return 1"})
    sub = submissions.create_submission(_db.session, user=user, version=version, nb=nb, mode=mode)
    assert submissions.claim(_db.session, sub.id, now=datetime.now(UTC), lease=timedelta(minutes=5))
    submissions.record_outcome(_db.session, sub, outcome(points, status))
    progress.update_progress(_db.session, sub)
    return sub


def test_workshop_share_weights_notebooks_by_points_and_needs_all_attempted() -> None:
    scores = [NotebookScore(1, 10, 1.0), NotebookScore(2, 30, 0.5)]
    assert workshop_share(scores) == (pytest.approx(25 / 40), True)
    assert workshop_share([NotebookScore(1, 10, 1.0), NotebookScore(2, 30, None)]) == (0.25, False)
    assert workshop_share([]) == (0.0, False)


def test_best_attempt_counts_and_a_pass_appends_evidence_once(org: Org) -> None:
    first = graded(org.engineer.id, 1.0, "partial")
    row = _db.session.scalar(select(WorkshopProgress))
    assert row is not None and row.best_score == 0.5 and row.passed_at is None and row.attempts == 1
    graded(org.engineer.id, 2.0)
    graded(org.engineer.id, 0.0, "failed")
    _db.session.refresh(row)
    assert row.best_score == 1.0 and row.passed_at is not None and row.attempts == 3
    assert first.id  # the first attempt is kept
    assert _db.session.scalar(select(func.count(Submission.id))) == 3


def test_run_tests_mode_does_not_count_as_an_attempt(org: Org) -> None:
    graded(org.engineer.id, 2.0, mode="check")
    row = _db.session.scalar(select(WorkshopProgress))
    assert row is not None and row.attempts == 0 and row.passed_at is None


def test_answers_for_unknown_cells_are_refused(db: object) -> None:
    version = make_notebook_version(SOURCE)
    with pytest.raises(InvalidInput, match="do not belong"):
        submissions.notebook_from_answers(version.student, {"nope": "x"})


def test_upload_of_another_notebook_is_refused_with_the_reason(db: object) -> None:
    version = make_notebook_version(SOURCE)
    with pytest.raises(InvalidInput, match="not a notebook"):
        submissions.parse_upload(b"{not json", version)
    other = nbgrader_notebook("x = 1", "assert x", "assert x")
    other["cells"][0]["metadata"]["nbgrader"]["grade_id"] = "other_answer"
    other["cells"][1]["metadata"]["nbgrader"]["grade_id"] = "other_check"
    with pytest.raises(InvalidInput, match="cannot be graded here"):
        submissions.parse_upload(nbformat.writes(nbformat.from_dict(other)).encode(), version)


def test_draft_autosave_keeps_the_latest_answers(org: Org) -> None:
    version = make_notebook_version(SOURCE)
    submissions.save_draft(_db.session, user=org.engineer, version=version, answers={"answer": "a"})
    submissions.save_draft(_db.session, user=org.engineer, version=version, answers={"answer": "b"})
    draft = submissions.load_draft(
        _db.session, user_id=org.engineer.id, notebook_id=version.notebook_id
    )
    assert draft == {"answer": "b"}


def test_manager_reviews_a_written_answer_and_the_total_updates(org: Org) -> None:
    sub = graded(org.engineer.id, None, "manual")
    assert sub.needs_review and sub.score == 0
    queue = reviews.pending(_db.session, org.manager)
    assert [p.submission_id for p in queue] == [sub.id]
    assert reviews.pending(_db.session, org.other_manager) == []
    with pytest.raises(PermissionDenied):
        reviews.grade_answer(
            _db.session,
            result_id=queue[0].result_id,
            points=1,
            comment="",
            reviewer=org.other_manager,
        )
    with pytest.raises(InvalidInput, match="between 0 and 2"):
        reviews.grade_answer(
            _db.session, result_id=queue[0].result_id, points=3, comment="", reviewer=org.manager
        )
    reviews.grade_answer(
        _db.session,
        result_id=queue[0].result_id,
        points=2,
        comment="Clear reasoning.",
        reviewer=org.manager,
    )
    _db.session.refresh(sub)
    assert sub.score == 2 and not sub.needs_review
    assert reviews.pending(_db.session, org.admin) == []
    with pytest.raises(NotFound):
        reviews.grade_answer(
            _db.session, result_id=10_000, points=1, comment="", reviewer=org.admin
        )


def test_engineer_cannot_review_even_their_own_answer(org: Org) -> None:
    sub = graded(org.engineer.id, None, "manual")
    result_id = reviews.pending(_db.session, org.admin)[0].result_id
    with pytest.raises(PermissionDenied):
        reviews.grade_answer(
            _db.session, result_id=result_id, points=2, comment="", reviewer=org.engineer
        )
    assert sub.score == 0
    assert _db.session.scalar(select(func.count(SkillEvidence.id))) == 0


def test_a_pass_verifies_skills_tagged_on_exercises_too(org: Org) -> None:
    category = SkillCategory(code="c", name="C")
    verified, tagged = (
        Skill(code="a", name="A", category=category),
        Skill(code="b", name="B", category=category),
    )
    _db.session.add_all([verified, tagged])
    _db.session.flush()
    version = make_notebook_version(SOURCE, skill=verified)
    version.exercises[0].skill_id = tagged.id
    _db.session.flush()
    graded(org.engineer.id, 2.0)
    levels = dict(_db.session.execute(select(SkillEvidence.skill_id, SkillEvidence.level)).all())
    assert levels == {verified.id: 3, tagged.id: 3}


def test_upload_with_malformed_nbgrader_metadata_is_refused_naming_the_cell(db: object) -> None:
    version = make_notebook_version(SOURCE)
    upload = json.loads(json.dumps(version.student))
    upload["cells"][1]["metadata"]["nbgrader"] = "grade"
    with pytest.raises(InvalidInput) as info:
        submissions.parse_upload(json.dumps(upload).encode(), version)
    assert info.value.message == (
        'This notebook cannot be graded here: Cell 2: nbgrader metadata is the text "grade", not '
        "an object. Skillforge reads nbgrader metadata only as nbgrader writes it: download a "
        "fresh copy of the notebook here, copy your answers into it and upload that."
    )


def test_upload_nested_too_deep_is_refused_without_a_recursion_error(db: object) -> None:
    version = make_notebook_version(SOURCE)
    deep = "[" * 9000 + "]" * 9000  # json.loads raised RecursionError on this
    upload = json.dumps(version.student).replace('"outputs": []', f'"outputs": {deep}', 1)
    with pytest.raises(InvalidInput) as info:
        submissions.parse_upload(upload.encode(), version)
    assert info.value.message == (
        "The file is not a notebook Skillforge can grade: not a valid notebook: cell 1 is nested "
        "more than 64 levels deep, which no notebook needs. Clear its outputs and metadata (or "
        "copy your work into a fresh notebook) and try again."
    )


def test_no_way_of_building_a_submission_stores_malformed_metadata(org: Org) -> None:
    version = make_notebook_version(SOURCE)
    nb = submissions.notebook_from_answers(version.student, {"answer": "def f():\n    return 1"})
    nb.cells[1].metadata["nbgrader"]["locked"] = "yes"
    with pytest.raises(InvalidInput, match="Cell 2 \\(grade_id 'check'\\): nbgrader flag 'locked'"):
        submissions.create_submission(
            _db.session, user=org.engineer, version=version, nb=nb, mode="final"
        )
    assert _db.session.scalar(select(func.count(Submission.id))) == 0
