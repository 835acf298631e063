"""Sanitising a submission before it runs: even metadata uploads refuse cannot crash the grader."""

from __future__ import annotations

import pytest
from nbmaker import answer, autotest, notebook, readonly, text

from webapp.grading.notebook import exercises, grade_id, student_version
from webapp.grading.prepare import prepare
from webapp.grading.wellformed import metadata_problem

TESTS = "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(2) == 3\n### END HIDDEN TESTS"


def source_nb():  # noqa: ANN201
    return notebook(
        text("# Intro"),
        readonly("setup", "import math"),
        answer("f", "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION"),
        autotest("f_tests", TESTS, points=2),
    )


@pytest.mark.parametrize(
    "damage",
    [
        {"nbgrader": "grade"},
        {"nbgrader": ["grade", True]},
        {"nbgrader": 3},
        {"nbgrader": None},
        {"grade_id": 7},
        {"points": "2"},
        {"grade": "yes"},
        {"locked": 1},
    ],
)
def test_malformed_metadata_on_a_submitted_cell_reads_as_no_metadata(damage):
    source = source_nb()
    submission = student_version(source)
    submission.cells[2].source = "def f(x):\n    return x + 1"
    broken = submission.cells[3].metadata
    if "nbgrader" in damage:
        broken["nbgrader"] = damage["nbgrader"]
    else:
        broken["nbgrader"].update(damage)
    prepared = prepare(source, submission)
    assert prepared.reinserted == ("f_tests",)  # the source's test cell, hidden tests included
    cells = prepared.notebook.cells
    assert [grade_id(c) for c in cells] == [None, "setup", "f", "f_tests", None]
    assert cells[3] == source.cells[3]  # put back after the cell it followed in the source
    assert "nbgrader" not in cells[4].metadata  # the damaged copy runs as the engineer's own cell
    # what the grader reads next (scoring, feedback) sees only well-formed nbgrader metadata
    assert [metadata_problem(c) for c in cells] == [None] * 5
    assert [e.grade_id for e in exercises(prepared.notebook)] == ["f_tests"]
