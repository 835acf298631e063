"""THE score rule: a submission's score, maximum and review flag from its exercises' points.

The autograder's outcome and a reviewer's points both go through here, so a submission's total
means the same whether a machine or a person gave the last points.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from webapp.models import Submission


class Scored(Protocol):
    """One exercise's points: None while a person still has to give them."""

    @property
    def points(self) -> float | None: ...

    @property
    def max_points(self) -> float: ...


@dataclass(frozen=True)
class Score:
    score: float
    max_score: float
    needs_review: bool


def score(exercises: Iterable[Scored]) -> Score:
    """Points given so far over all points; an exercise without points counts 0 and waits for
    review."""
    cells = list(exercises)
    return Score(
        score=sum(c.points or 0.0 for c in cells),
        max_score=sum(c.max_points for c in cells),
        needs_review=any(c.points is None for c in cells),
    )


def apply_score(submission: Submission, exercises: Iterable[Scored]) -> Score:
    """Set the submission's totals from ``exercises`` (all of its exercises); returns them."""
    totals = score(exercises)
    submission.score = totals.score
    submission.max_score = totals.max_score
    submission.needs_review = totals.needs_review
    return totals
