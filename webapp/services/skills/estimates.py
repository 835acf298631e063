"""Skill estimates: one level per (engineer, skill) combined from the appended evidence.

The level comes from the one current-level rule in :mod:`webapp.services.skills.levels`
(verified, else manager, else self evidence); on top of it, per (user, skill):

* ``claimed_level`` is the best non-verified level (manager's, else self) and ``verified_level``
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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from webapp.db import Session
from webapp.models import EvidenceSource, Skill, SkillEvidence, User
from webapp.services import audit
from webapp.services.access import policy
from webapp.services.errors import InvalidInput, NotFound
from webapp.services.skills import levels
from webapp.services.skills.levels import MANAGER, SELF, WORKSHOP, DecidingEvidence, EvidenceRow

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


def _estimate(
    deciding: DecidingEvidence, now: datetime, settings: EstimateSettings
) -> SkillEstimate:
    """Apply the ageing and agreement rule to the deciding evidence of one (user, skill)."""
    verified, claim, winner = deciding.verified, deciding.claim, deciding.winner
    said = [r.level for r in deciding.rows]
    agreement = max(0.0, 1.0 - DISAGREEMENT_PENALTY_PER_LEVEL * (max(said) - min(said)))
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
    rows: Iterable[EvidenceRow], *, now: datetime, settings: EstimateSettings
) -> dict[tuple[int, int], SkillEstimate]:
    """Combine evidence rows (any number per user and skill) into one estimate per pair.

    Pure: no database, no clock. ``now`` must be timezone-aware, like the rows' timestamps.
    """
    picked = levels.combine(rows)
    return {key: _estimate(deciding, now, settings) for key, deciding in picked.items()}


def load_estimates(
    session: Session,
    *,
    user_ids: levels.IdFilter = None,
    skill_ids: levels.IdFilter = None,
    now: datetime | None = None,
    settings: EstimateSettings = EstimateSettings(),  # noqa: B008 (frozen, immutable)
) -> dict[tuple[int, int], SkillEstimate]:
    """Estimates for the given users and skills (all when ``None``), in one query."""
    picked = levels.load(session, user_ids=user_ids, skill_ids=skill_ids)
    moment = now or datetime.now(UTC)
    return {key: _estimate(deciding, moment, settings) for key, deciding in picked.items()}


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
