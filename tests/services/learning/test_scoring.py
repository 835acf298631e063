"""THE score rule, shared by the autograder's outcome and a reviewer's points."""

from __future__ import annotations

from webapp.services.learning import scoring
from webapp.services.learning.submissions import CellOutcome


def cell(points: float | None, max_points: float) -> CellOutcome:
    return CellOutcome("c", points, max_points, "manual" if points is None else "passed", None)


def test_points_waiting_for_a_reviewer_count_zero_and_flag_the_submission() -> None:
    assert scoring.score([cell(1.5, 2), cell(None, 3)]) == scoring.Score(1.5, 5, True)


def test_a_fully_graded_submission_needs_no_review() -> None:
    assert scoring.score([cell(2, 2), cell(0, 1)]) == scoring.Score(2, 3, False)
    assert scoring.score([]) == scoring.Score(0, 0, False)
