"""Skillforge scores as real nbgrader 0.9 does (expected.json), but for the documented cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webapp.grading.notebook import read_notebook

REFERENCE = Path(__file__).parent / "nbgrader_reference"
EXPECTED = json.loads((REFERENCE / "expected.json").read_text())
SOURCE = read_notebook((REFERENCE / "fixtures" / "source.ipynb").read_bytes())
DEVIATIONS = {"stderr_warning", "deleted_test", "partial_overflow"}
SAME = sorted(k for k, v in EXPECTED.items() if isinstance(v, dict) and k not in DEVIATIONS)


def grade(grader, case):
    submission = read_notebook((REFERENCE / "fixtures" / f"{case}.ipynb").read_bytes())
    return grader.grade(SOURCE, submission)


def test_reference_was_made_with_nbgrader_0_9():
    assert EXPECTED["nbgrader_version"].startswith("0.9.")


@pytest.mark.sandbox
@pytest.mark.parametrize("case", SAME)
def test_scores_match_nbgrader(grader, case):
    result = grade(grader, case).to_json()
    expected = EXPECTED[case]
    assert {g: c["points"] for g, c in result["cells"].items()} == {
        g: c["points"] for g, c in expected["cells"].items()
    }
    assert (result["total"], result["max"]) == (expected["total"], expected["max"])


@pytest.mark.sandbox
def test_release_notebook_from_nbgrader_is_gradable_and_scores_zero(grader):
    result = grade(grader, "blank")
    assert result.tampered == ()
    assert result.cells["explain"].message == "not answered"


@pytest.mark.sandbox
def test_tampered_test_cell_is_restored_and_reported(grader):
    result = grade(grader, "tampered")
    assert result.tampered == ("mean_tests",)
    assert result.cells["mean_tests"].max_points == 2  # the student's 100 points are reset


@pytest.mark.sandbox
def test_timeout_is_reported_on_the_exercise(grader):
    cell = grade(grader, "timing_out").cells["mean_tests"]
    assert (cell.status, cell.message) == ("timeout", "timed out after 3 s")


@pytest.mark.sandbox
def test_deviation_stderr_in_passing_test_keeps_points(grader):
    assert EXPECTED["stderr_warning"]["cells"]["mean_tests"]["points"] == 0  # nbgrader
    result = grade(grader, "stderr_warning")
    assert result.cells["mean_tests"].points == 2
    assert result.cells["spread_tests"].points == 1
    assert result.total == EXPECTED["correct"]["total"]


@pytest.mark.sandbox
def test_deviation_deleted_test_cell_is_reinserted_and_graded(grader):
    assert EXPECTED["deleted_test"]["cells"]["mean_tests"]["points"] is None  # nbgrader
    result = grade(grader, "deleted_test")
    assert (result.cells["mean_tests"].points, result.cells["mean_tests"].status) == (0, "failed")
    assert "AssertionError" in (result.cells["mean_tests"].message or "")


@pytest.mark.sandbox
def test_deviation_partial_credit_overflow_scores_only_that_cell_zero(grader):
    assert EXPECTED["partial_overflow"]["cells"]["spread_tests"]["points"] is None  # nbgrader
    result = grade(grader, "partial_overflow")
    clean = result.cells["clean_tests"]
    # The answer's object says 5 to every ==; on the trusted side a handle equals only itself,
    # so no comparison holds and the cell scores 0 without the overflow nbgrader trips on.
    assert (clean.points, clean.status) == (0, "failed")
    assert result.cells["mean_tests"].points == 2
    assert result.cells["spread_tests"].points == 1


@pytest.mark.sandbox
def test_manual_grades_are_applied(grader):
    submission = read_notebook((REFERENCE / "fixtures" / "manual_answer.ipynb").read_bytes())
    result = grader.grade(SOURCE, submission, manual_grades={"explain": 0.5})
    assert (result.cells["explain"].points, result.cells["explain"].status) == (0.5, "partial")
    assert result.total == 6.5


@pytest.mark.sandbox
def test_feedback_hides_hidden_tests(grader):
    result = grade(grader, "raising")
    sources = "\n".join(c.source for c in result.feedback.cells)
    assert "mean([4])" not in sources
    assert "assert mean([1, 2, 3]) == 2" in sources
    tracebacks = json.dumps([o for c in result.feedback.cells for o in c.get("outputs", [])])
    assert "mean([4])" not in tracebacks
    assert result.cells["mean_tests"].message == "ValueError: no mean today"
