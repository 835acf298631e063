"""Skill estimates: one level per (engineer, skill) combined from the appended evidence.

The rule, applied per (user, skill):

* **Verified** evidence (source ``workshop``: a passed workshop or a skill-tagged exercise) outranks
  a **manager** assessment, which outranks a **self**-assessment. Within verified evidence the
  highest level counts (newest on ties): passing a lower workshop later does not undo a higher
  pass. Within manager and self evidence the newest row counts, so a new assessment replaces the
  old one without editing it.
* ``level`` is the verified level when there is one, else the manager's, else the self-assessed.
  ``claimed_level`` is the best non-verified level (manager's, else self) and ``verified_level``
  the verified one, so pages can show "claimed versus verified".
* ``confidence`` = source weight × 0.5 ** (age of the winning evidence / half-life) × agreement.
  Source weights: workshop 1.0, manager 0.8, self 0.6. Agreement is 1 − 0.25 per level of spread
  between the levels the sources currently say (self, manager, verified), floored at 0: sources
  one level apart cost a quarter, two levels apart half.
* ``due_for_reverification`` is true when the verifying evidence is older than
  ``reverify_after_days``.

Evidence rows are never updated or deleted; :func:`record_self_assessment` and
:func:`record_manager_assessment` append one (the manager one is audited).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from webapp.models import EvidenceSource, Skill, SkillEvidence, User
from webapp.services import audit
from webapp.services.access import policy
from webapp.services.errors import InvalidInput, NotFound

# Plain strings: enum attribute access is slow in the per-pair loop.
WORKSHOP, MANAGER, SELF = (
    s.value for s in (EvidenceSource.WORKSHOP, EvidenceSource.MANAGER, EvidenceSource.SELF)
)
SOURCE_WEIGHT = {WORKSHOP: 1.0, MANAGER: 0.8, SELF: 0.6}
DISAGREEMENT_PENALTY_PER_LEVEL = 0.25
_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class EstimateSettings:
    """How evidence ages: confidence halves every ``half_life_days``; verification expires."""

    half_life_days: float = 365.0
    reverify_after_days: int = 540


@dataclass(frozen=True)
class SkillEstimate:
    """The level of one engineer in one skill, with where it came from and how sure we are."""

    user_id: int
    skill_id: int
    level: int
    source: str
    recorded_at: datetime
    confidence: float
    claimed_level: int | None
    verified_level: int | None
    due_for_reverification: bool


class EvidenceRow(NamedTuple):
    """The columns of one ``skill_evidence`` row that the estimate needs."""

    user_id: int
    skill_id: int
    level: int
    source: str
    recorded_at: datetime


def settings_from_config(config: Mapping[str, Any]) -> EstimateSettings:
    """Read ``ESTIMATE_HALF_LIFE_DAYS`` and ``REVERIFY_AFTER_DAYS`` from an app config mapping."""
    default = EstimateSettings()
    return EstimateSettings(
        half_life_days=float(config.get("ESTIMATE_HALF_LIFE_DAYS", default.half_life_days)),
        reverify_after_days=int(config.get("REVERIFY_AFTER_DAYS", default.reverify_after_days)),
    )


def _better(row: EvidenceRow, best: EvidenceRow | None) -> bool:
    """Whether ``row`` beats ``best`` within the same source (see the module rule)."""
    if best is None:
        return True
    if row.source == WORKSHOP and row.level != best.level:
        return row.level > best.level
    return row.recorded_at > best.recorded_at


def _pick_per_source(
    rows: Sequence[EvidenceRow],
) -> dict[tuple[int, int], dict[str, EvidenceRow]]:
    """The deciding row of each source for each (user, skill)."""
    picked: dict[tuple[int, int], dict[str, EvidenceRow]] = {}
    for row in rows:
        per_source = picked.setdefault((row.user_id, row.skill_id), {})
        if _better(row, per_source.get(row.source)):
            per_source[row.source] = row
    return picked


def _combine(
    per_source: dict[str, EvidenceRow], now: datetime, settings: EstimateSettings
) -> SkillEstimate:
    """Apply the ranking, ageing and agreement rule to one (user, skill)."""
    verified = per_source.get(WORKSHOP)
    claim = per_source.get(MANAGER) or per_source.get(SELF)
    winner = verified or claim
    assert winner is not None  # a key exists only with at least one row
    levels = [r.level for r in per_source.values()]
    agreement = max(0.0, 1.0 - DISAGREEMENT_PENALTY_PER_LEVEL * (max(levels) - min(levels)))
    age_days = max(0.0, (now - winner.recorded_at).total_seconds() / _SECONDS_PER_DAY)
    decay = 0.5 ** (age_days / settings.half_life_days) if settings.half_life_days > 0 else 1.0
    due = verified is not None and (
        (now - verified.recorded_at).total_seconds() / _SECONDS_PER_DAY
        > settings.reverify_after_days
    )
    return SkillEstimate(
        user_id=winner.user_id,
        skill_id=winner.skill_id,
        level=winner.level,
        source=winner.source,
        recorded_at=winner.recorded_at,
        confidence=round(SOURCE_WEIGHT.get(winner.source, 0.5) * decay * agreement, 4),
        claimed_level=claim.level if claim else None,
        verified_level=verified.level if verified else None,
        due_for_reverification=due,
    )


def estimate(
    rows: Sequence[EvidenceRow], *, now: datetime, settings: EstimateSettings
) -> dict[tuple[int, int], SkillEstimate]:
    """Combine evidence rows (any number per user and skill) into one estimate per pair.

    Pure: no database, no clock. ``now`` must be timezone-aware, like the rows' timestamps.
    """
    picked = _pick_per_source(rows)
    return {key: _combine(per_source, now, settings) for key, per_source in picked.items()}


def deciding_rows_query(
    *, user_ids: Collection[int] | None = None, skill_ids: Collection[int] | None = None
) -> Any:
    """SELECT of the deciding evidence rows: per (user, skill, source), the one the rule uses.

    A window function ranks rows within each (user, skill, source): workshop rows by level then
    time, others by time; only rank 1 is returned, so the database does the reduction.
    """
    ev = SkillEvidence
    verified_level = case((ev.source == EvidenceSource.WORKSHOP.value, ev.level), else_=0)
    rank = (
        func.row_number()
        .over(
            partition_by=(ev.user_id, ev.skill_id, ev.source),
            order_by=(verified_level.desc(), ev.recorded_at.desc(), ev.id.desc()),
        )
        .label("rank")
    )
    inner = select(ev.user_id, ev.skill_id, ev.level, ev.source, ev.recorded_at, rank)
    if user_ids is not None:
        inner = inner.where(ev.user_id.in_(list(user_ids)))
    if skill_ids is not None:
        inner = inner.where(ev.skill_id.in_(list(skill_ids)))
    sub = inner.subquery()
    columns = (sub.c.user_id, sub.c.skill_id, sub.c.level, sub.c.source, sub.c.recorded_at)
    return select(*columns).where(sub.c.rank == 1)


def load_estimates(
    session: Session,
    *,
    user_ids: Collection[int] | None = None,
    skill_ids: Collection[int] | None = None,
    now: datetime | None = None,
    settings: EstimateSettings = EstimateSettings(),  # noqa: B008 (frozen, immutable)
) -> dict[tuple[int, int], SkillEstimate]:
    """Estimates for the given users and skills (all when ``None``), in one query."""
    if (user_ids is not None and not user_ids) or (skill_ids is not None and not skill_ids):
        return {}
    query = deciding_rows_query(user_ids=user_ids, skill_ids=skill_ids)
    rows = [EvidenceRow(*r) for r in session.execute(query)]
    return estimate(rows, now=now or datetime.now(UTC), settings=settings)


def _append(
    session: Session,
    *,
    user_id: int,
    skill_id: int,
    level: int,
    source: EvidenceSource,
    actor: User,
    note: str,
) -> SkillEvidence:
    if not 1 <= level <= 5:
        raise InvalidInput("Choose a level between 1 and 5.")
    skill = session.get(Skill, skill_id)
    if skill is None or skill.archived:
        raise NotFound("That skill does not exist or is archived; pick one from the list.")
    row = SkillEvidence(
        user_id=user_id,
        skill_id=skill_id,
        level=level,
        source=source.value,
        recorded_by_id=actor.id,
        note=note.strip()[:2000],
    )
    session.add(row)
    session.flush()
    return row


def record_self_assessment(
    session: Session, *, actor: User, skill_id: int, level: int, note: str = ""
) -> SkillEvidence:
    """Append the actor's own assessment of a skill. Raises InvalidInput/NotFound."""
    return _append(
        session,
        user_id=actor.id,
        skill_id=skill_id,
        level=level,
        source=EvidenceSource.SELF,
        actor=actor,
        note=note,
    )


def record_manager_assessment(
    session: Session, *, actor: User, engineer_id: int, skill_id: int, level: int, note: str = ""
) -> SkillEvidence:
    """Append a manager's assessment of an engineer, and audit it.

    Only admins and the managers of one of the engineer's teams may. Raises PermissionDenied,
    InvalidInput or NotFound.
    """
    if engineer_id == actor.id:
        raise InvalidInput("Managers assess their engineers; use the self-assessment form for you.")
    if session.get(User, engineer_id) is None:
        raise NotFound("That engineer does not exist.")
    policy.require_assess(session, actor, engineer_id)
    row = _append(
        session,
        user_id=engineer_id,
        skill_id=skill_id,
        level=level,
        source=EvidenceSource.MANAGER,
        actor=actor,
        note=note,
    )
    audit.record(
        session,
        actor=actor,
        action="skill.manager_assessment",
        target_type="user",
        target_id=engineer_id,
        skill_id=skill_id,
        level=level,
        evidence_id=row.id,
    )
    return row
