"""Hints: authored per answer cell (``metadata.skillforge.hints``), shown one at a time.

Each hint an engineer asks for is recorded (which one, when) and stays shown; the count of hints
used is part of the engineer's evidence: on the submission page, and beside each workshop pass in
their skill evidence. Hints are returned as Markdown: the web layer renders and sanitises them like
notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from webapp.db import Session
from webapp.models import (
    EvidenceSource,
    ExerciseProgress,
    HintUse,
    Notebook,
    SkillEvidence,
    Submission,
)
from webapp.services.errors import Conflict
from webapp.services.learning.exercises import current_outline, find_exercise, progress_row


@dataclass(frozen=True)
class Hint:
    number: int  # 1-based
    total: int
    markdown: str


def record_hint(
    session: Session, *, user_id: int, notebook_id: int, grade_id: str, now: datetime
) -> Hint:
    """Reveal the exercise's next hint to the engineer, recording which one and when.

    Returns the hint as Markdown (the caller renders and sanitises it). Raises NotFound for an
    unknown exercise, Conflict when it has no hints or every one is already shown.
    """
    entry = find_exercise(session, notebook_id, grade_id)
    if not entry.hints:
        raise Conflict("This exercise has no hints.")
    progress = progress_row(
        session, user_id=user_id, notebook_id=notebook_id, grade_id=grade_id, now=now
    )
    if progress.hints_revealed >= len(entry.hints):
        raise Conflict("You have seen every hint for this exercise.")
    number = progress.hints_revealed + 1
    try:
        with session.begin_nested():
            session.add(HintUse(progress=progress, number=number, revealed_at=now))
    except IntegrityError as exc:  # the same hint asked for twice at once
        raise Conflict("That hint was just shown; reload the page to see it.") from exc
    progress.hints_revealed = number
    progress.updated_at = now
    session.flush()
    return Hint(number, len(entry.hints), entry.hints[number - 1])


def revealed_hints(session: Session, *, user_id: int, notebook_id: int) -> dict[str, list[Hint]]:
    """The hints the engineer has seen, by exercise grade id, in order (they stay shown)."""
    seen = dict(
        session.execute(
            select(ExerciseProgress.grade_id, ExerciseProgress.hints_revealed).where(
                ExerciseProgress.user_id == user_id, ExerciseProgress.notebook_id == notebook_id
            )
        ).all()
    )
    found: dict[str, list[Hint]] = {}
    for entry in current_outline(session, notebook_id):
        shown = min(seen.get(entry.grade_id, 0), len(entry.hints))
        total = len(entry.hints)
        found[entry.grade_id] = [Hint(n, total, entry.hints[n - 1]) for n in range(1, shown + 1)]
    return found


@dataclass(frozen=True)
class HintUseRow:
    """How many of an exercise's hints the engineer used (part of their evidence)."""

    title: str
    used: int
    total: int


def hint_use(session: Session, *, user_id: int, notebook_id: int) -> list[HintUseRow]:
    """The exercises of the notebook on which the engineer used hints, in notebook order."""
    seen = dict(
        session.execute(
            select(ExerciseProgress.grade_id, ExerciseProgress.hints_revealed).where(
                ExerciseProgress.user_id == user_id,
                ExerciseProgress.notebook_id == notebook_id,
                ExerciseProgress.hints_revealed > 0,
            )
        ).all()
    )
    return [
        HintUseRow(e.title, min(seen[e.grade_id], len(e.hints)), len(e.hints))
        for e in current_outline(session, notebook_id)
        if seen.get(e.grade_id) and e.hints
    ]


def hints_behind_evidence(session: Session, *, user_id: int) -> dict[int, int]:
    """How many hints the engineer had revealed in the workshop when a pass was recorded, by the
    id of each piece of workshop evidence; evidence earned without hints is left out.

    A pass is earned over all of the workshop's notebooks, so the hints of each count; hints
    revealed after the pass (going back over the exercises) do not, as they did not help earn
    it, so the count beside a piece of evidence never changes. One query for all the evidence.
    """
    passed_in, hinted_in = aliased(Notebook), aliased(Notebook)
    rows = session.execute(
        select(SkillEvidence.id, func.count(HintUse.id))
        .join(Submission, Submission.id == SkillEvidence.submission_id)
        .join(passed_in, passed_in.id == Submission.notebook_id)
        .join(hinted_in, hinted_in.workshop_id == passed_in.workshop_id)
        .join(ExerciseProgress, ExerciseProgress.notebook_id == hinted_in.id)
        .join(HintUse, HintUse.progress_id == ExerciseProgress.id)
        .where(
            SkillEvidence.user_id == user_id,
            SkillEvidence.source == EvidenceSource.WORKSHOP.value,
            ExerciseProgress.user_id == user_id,
            HintUse.revealed_at <= SkillEvidence.recorded_at,
        )
        .group_by(SkillEvidence.id)
    )
    return {evidence_id: int(used) for evidence_id, used in rows}
