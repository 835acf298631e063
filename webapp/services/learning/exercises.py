"""Exercises as an engineer works on them: practice checks, hints seen, and each one's state.

An exercise is an answer cell with the tests that follow it (see ``webapp.grading.outline``);
progress is kept under the answer cell's grade id. Its state is, from the strongest evidence
down: "passed in a graded submission" (every test cell of it passed in the engineer's best
submitted attempt), "passed in practice" (a Check in a live kernel or a "Run tests" run passed
it), "attempted" (checked, answered or submitted), else "not started". A practice pass is never
verified evidence: only submitted attempts, graded by the trusted grader, count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import nbformat
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.db import Session
from webapp.grading.outline import ExerciseOutline, outline
from webapp.models import (
    Draft,
    Exercise,
    ExerciseProgress,
    ExerciseResult,
    Notebook,
    NotebookVersion,
    ResultStatus,
    Skill,
    Submission,
    SubmissionMode,
    SubmissionStatus,
)
from webapp.services.cache import LRU
from webapp.services.errors import NotFound
from webapp.services.learning.submissions import version_answer_cells
from webapp.services.safe_html import rendered_id

NOT_STARTED = "not started"
ATTEMPTED = "attempted"
PASSED_IN_PRACTICE = "passed in practice"
PASSED_GRADED = "passed in a graded submission"
STATES = (NOT_STARTED, ATTEMPTED, PASSED_IN_PRACTICE, PASSED_GRADED)
STUB_ERROR = "NotImplementedError"  # a failing test of an answer still holding the stub


@dataclass(frozen=True)
class ExerciseState:
    grade_id: str  # the answer cell's grade id
    cell_id: str
    title: str
    points: float
    kind: str  # of its (first) graded cell: auto, manual or task
    skill_name: str | None
    state: str
    hints_used: int
    hints_total: int

    @property
    def anchor(self) -> str:
        """The notebook page's element id of the exercise's cell."""
        return cell_anchor(self.cell_id)

    @property
    def finished(self) -> bool:
        return self.state == PASSED_GRADED


# --- the notebook's exercises ------------------------------------------------------------------

_OUTLINES: LRU[str, tuple[ExerciseOutline, ...]] = LRU(256)


def version_outline(
    session: Session, *, version_id: int, content_hash: str
) -> tuple[ExerciseOutline, ...]:
    """The exercises of a notebook version, parsed once per process (a hash names a content)."""
    found = _OUTLINES.get(content_hash)
    if found is None:
        source = session.scalar(
            select(NotebookVersion.source).where(NotebookVersion.id == version_id)
        )
        parsed = outline(nbformat.from_dict(source or {"cells": []}))
        found = _OUTLINES.put(content_hash, tuple(parsed))
    return found


def _current_versions(session: Session, notebook_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """notebook id -> (version id, content hash) of the live notebooks' current versions."""
    rows = session.execute(
        select(Notebook.id, NotebookVersion.id, NotebookVersion.content_hash)
        .join(
            NotebookVersion,
            (NotebookVersion.notebook_id == Notebook.id)
            & (NotebookVersion.content_hash == Notebook.current_hash),
        )
        .where(Notebook.id.in_(list(notebook_ids)), Notebook.archived.is_(False))
    )
    return {nid: (vid, digest) for nid, vid, digest in rows}


def current_outline(session: Session, notebook_id: int) -> tuple[ExerciseOutline, ...]:
    """The exercises of the notebook's current version; raises NotFound for an unknown or
    archived notebook."""
    found = _current_versions(session, [notebook_id]).get(notebook_id)
    if found is None:
        raise NotFound("That notebook is not in the catalog (any more).")
    return version_outline(session, version_id=found[0], content_hash=found[1])


def find_exercise(session: Session, notebook_id: int, grade_id: str) -> ExerciseOutline:
    for entry in current_outline(session, notebook_id):
        if entry.grade_id == grade_id:
            return entry
    raise NotFound("That exercise is not in this notebook; reload the page.")


def cell_anchor(cell_id: str) -> str:
    """The element id of a notebook cell on its rendered page (nbconvert's ``cell-id=<id>``, in
    the sanitiser's namespace for the notebook's own ids)."""
    return rendered_id(f"cell-id={cell_id}")


def first_failing(
    session: Session, *, notebook_id: int, results: Iterable[tuple[str, str]]
) -> ExerciseOutline | None:
    """The first exercise (in notebook order) with a graded cell that did not pass, from an
    attempt's (grade id, status) results; None when all passed or the notebook is gone."""
    failing = {gid for gid, status in results if status != ResultStatus.PASSED.value}
    try:
        entries = current_outline(session, notebook_id)
    except NotFound:
        return None
    return next((e for e in entries if set(e.graded) & failing), None)


# --- recording practice -----------------------------------------------------------------------


def progress_row(
    session: Session, *, user_id: int, notebook_id: int, grade_id: str, now: datetime
) -> ExerciseProgress:
    """The engineer's progress row for the exercise, created when missing (a concurrent
    request creating it too is tolerated: the unique constraint decides, we read the winner)."""
    query = select(ExerciseProgress).where(
        ExerciseProgress.user_id == user_id,
        ExerciseProgress.notebook_id == notebook_id,
        ExerciseProgress.grade_id == grade_id,
    )
    found = session.scalar(query)
    if found is not None:
        return found
    row = ExerciseProgress(
        user_id=user_id, notebook_id=notebook_id, grade_id=grade_id, updated_at=now
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return session.scalars(query).one()
    return row


def record_check(
    session: Session, *, user_id: int, notebook_id: int, grade_id: str, passed: bool, now: datetime
) -> None:
    """Record a practice check of one exercise (its visible tests, run in a live kernel).

    ``grade_id`` is the answer cell's grade id (as in the notebook page's ``#answer-cells``).
    A pass marks the exercise "passed in practice" and stays; it is never verified evidence.
    Raises NotFound for a notebook or exercise that is not in the catalog.
    """
    find_exercise(session, notebook_id, grade_id)
    progress = progress_row(
        session, user_id=user_id, notebook_id=notebook_id, grade_id=grade_id, now=now
    )
    progress.checks += 1
    progress.practice_attempted_at = now
    if passed:
        progress.practice_passed_at = now
    progress.updated_at = now
    session.flush()


# --- states -------------------------------------------------------------------------------------


def exercise_states(session: Session, *, user_id: int, notebook_id: int) -> list[ExerciseState]:
    """Each exercise of the notebook's current version with the engineer's state, points and
    hints used, in notebook order; [] for a notebook not in the catalog."""
    return notebook_states(session, user_id=user_id, notebook_ids=[notebook_id]).get(
        notebook_id, []
    )


def notebook_states(
    session: Session, *, user_id: int, notebook_ids: Iterable[int]
) -> dict[int, list[ExerciseState]]:
    """``exercise_states`` of several notebooks (a workshop's) in a handful of queries."""
    versions = _current_versions(session, notebook_ids)
    if not versions:
        return {}
    ids = list(versions)
    cells = _graded_cells(session, [vid for vid, _ in versions.values()])
    practice = _practice(session, user_id, ids)
    attempts = _attempts(session, user_id, ids)
    answered = _answered(session, user_id, versions)
    found = {}
    for nid, (vid, digest) in versions.items():
        entries = version_outline(session, version_id=vid, content_hash=digest)
        evidence = _evidence(entries, attempts.get(nid, {}).values())
        checked, passed, hints = practice.get(nid, (set(), set(), {}))
        evidence = _Evidence(
            graded=evidence.graded,
            practised=evidence.practised | passed,
            tried=evidence.tried | checked | answered.get(nid, set()),
        )
        found[nid] = [_state(e, cells[vid], evidence, hints.get(e.grade_id, 0)) for e in entries]
    return found


@dataclass(frozen=True)
class _Evidence:
    graded: set[str]  # answer grade ids passed in the best submitted attempt
    practised: set[str]  # ... passed in practice (a check, or a "Run tests" run)
    tried: set[str]  # ... checked, answered or submitted


@dataclass
class _Attempt:
    """One graded attempt's results by graded cell."""

    final: bool
    score: float
    passed: set[str] = field(default_factory=set)
    tried: set[str] = field(default_factory=set)  # cells whose answer was more than the stub


def _evidence(entries: Iterable[ExerciseOutline], attempts: Iterable[_Attempt]) -> _Evidence:
    """What the engineer's graded attempts show about each exercise (pure)."""
    attempts = list(attempts)
    finals = [(a.score, n, a) for n, a in enumerate(attempts) if a.final]
    best = max(finals, key=lambda t: (t[0], t[1]))[2].passed if finals else set()
    runs = [a.passed for a in attempts if not a.final]
    tried = set().union(*(a.tried for a in attempts))
    graded, practised, touched = set(), set(), set()
    for entry in entries:
        if _all_passed(entry, best):
            graded.add(entry.grade_id)
        if any(_all_passed(entry, run) for run in runs):
            practised.add(entry.grade_id)
        if set(entry.graded) & tried:
            touched.add(entry.grade_id)
    return _Evidence(graded, practised, touched)


def _all_passed(entry: ExerciseOutline, passed_cells: set[str]) -> bool:
    return bool(entry.graded) and all(g in passed_cells for g in entry.graded)


def _state(
    entry: ExerciseOutline,
    cells: Mapping[str, tuple[str, float, str | None]],
    evidence: _Evidence,
    hints_used: int,
) -> ExerciseState:
    graded = [cells[g] for g in entry.graded if g in cells]
    kind, _points, skill = graded[0] if graded else ("auto", 0.0, None)
    if entry.grade_id in evidence.graded:
        state = PASSED_GRADED
    elif entry.grade_id in evidence.practised:
        state = PASSED_IN_PRACTICE
    elif entry.grade_id in evidence.tried:
        state = ATTEMPTED
    else:
        state = NOT_STARTED
    return ExerciseState(
        grade_id=entry.grade_id,
        cell_id=entry.cell_id,
        title=entry.title,
        points=sum(points for _kind, points, _skill in graded),
        kind=kind,
        skill_name=skill,
        state=state,
        hints_used=min(hints_used, len(entry.hints)),
        hints_total=len(entry.hints),
    )


def _graded_cells(
    session: Session, version_ids: list[int]
) -> dict[int, dict[str, tuple[str, float, str | None]]]:
    """version id -> graded cell grade id -> (kind, points, skill name)."""
    rows = session.execute(
        select(Exercise.version_id, Exercise.grade_id, Exercise.kind, Exercise.points, Skill.name)
        .outerjoin(Skill, Skill.id == Exercise.skill_id)
        .where(Exercise.version_id.in_(version_ids))
    )
    found: dict[int, dict[str, tuple[str, float, str | None]]] = defaultdict(dict)
    for vid, gid, kind, points, skill in rows:
        found[vid][gid] = (kind, points, skill)
    return found


def _practice(
    session: Session, user_id: int, ids: list[int]
) -> dict[int, tuple[set[str], set[str], dict[str, int]]]:
    """notebook id -> (exercises checked, exercises passed in a check, hints seen by exercise)."""
    found: dict[int, tuple[set[str], set[str], dict[str, int]]] = defaultdict(
        lambda: (set(), set(), {})
    )
    rows = session.execute(
        select(
            ExerciseProgress.notebook_id,
            ExerciseProgress.grade_id,
            ExerciseProgress.practice_attempted_at,
            ExerciseProgress.practice_passed_at,
            ExerciseProgress.hints_revealed,
        ).where(ExerciseProgress.user_id == user_id, ExerciseProgress.notebook_id.in_(ids))
    )
    for nid, gid, tried, passed, hints in rows:
        checked, passes, seen = found[nid]
        if tried is not None:
            checked.add(gid)
        if passed is not None:
            passes.add(gid)
        seen[gid] = hints
    return found


def _attempts(session: Session, user_id: int, ids: list[int]) -> dict[int, dict[int, _Attempt]]:
    """notebook id -> submission id -> the graded attempt's results."""
    rows = session.execute(
        select(
            Submission.id,
            Submission.notebook_id,
            Submission.mode,
            Submission.score,
            ExerciseResult.grade_id,
            ExerciseResult.status,
            ExerciseResult.message,
        )
        .join(ExerciseResult, ExerciseResult.submission_id == Submission.id)
        .where(
            Submission.user_id == user_id,
            Submission.notebook_id.in_(ids),
            Submission.status == SubmissionStatus.GRADED.value,
        )
    )
    found: dict[int, dict[int, _Attempt]] = defaultdict(dict)
    for sid, nid, mode, score, gid, status, message in rows:
        final = mode == SubmissionMode.FINAL.value
        attempt = found[nid].setdefault(sid, _Attempt(final, score or 0.0))
        if status == ResultStatus.PASSED.value:
            attempt.passed.add(gid)
        if STUB_ERROR not in (message or ""):
            attempt.tried.add(gid)
    return found


def _answered(
    session: Session, user_id: int, versions: Mapping[int, tuple[int, str]]
) -> dict[int, set[str]]:
    """Answer cells whose saved draft differs from the notebook's empty stub."""
    drafts = session.execute(
        select(Draft.notebook_id, Draft.answers).where(
            Draft.user_id == user_id, Draft.notebook_id.in_(list(versions))
        )
    )
    found: dict[int, set[str]] = {}
    for nid, answers in drafts:
        vid, digest = versions[nid]
        stubs = version_answer_cells(session, version_id=vid, content_hash=digest, draft={})
        found[nid] = {
            c.grade_id for c in stubs if (answers or {}).get(c.grade_id, c.source) != c.source
        }
    return found
