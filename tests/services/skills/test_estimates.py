"""The skill estimate: ranking of sources, ageing, disagreement, re-verification, the SQL loader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.db import db as _db
from webapp.models import AuditEvent, SkillEvidence
from webapp.services.errors import InvalidInput, PermissionDenied
from webapp.services.skills.estimates import (
    EstimateSettings,
    estimate,
    load_estimates,
    record_manager_assessment,
    record_self_assessment,
)
from webapp.services.skills.levels import EvidenceRow

NOW = datetime(2025, 6, 1, tzinfo=UTC)
SETTINGS = EstimateSettings(half_life_days=100.0, reverify_after_days=300)


def row(level: int, source: str, days_ago: float, user: int = 1, skill: int = 7) -> EvidenceRow:
    return EvidenceRow(user, skill, level, source, NOW - timedelta(days=days_ago))


def one(rows: list[EvidenceRow]):  # noqa: ANN201
    result = estimate(rows, now=NOW, settings=SETTINGS)
    assert len(result) == 1
    return next(iter(result.values()))


def test_verified_outranks_a_newer_manager_and_self_claim() -> None:
    est = one([row(2, "workshop", 50), row(4, "manager", 1), row(5, "self", 0)])
    assert (est.level, est.source, est.verified_level, est.claimed_level) == (2, "workshop", 2, 4)


def test_manager_outranks_a_newer_self_assessment() -> None:
    est = one([row(3, "manager", 30), row(5, "self", 1)])
    assert (est.level, est.source, est.claimed_level, est.verified_level) == (3, "manager", 3, None)


def test_newest_self_assessment_replaces_older_ones() -> None:
    est = one([row(2, "self", 90), row(4, "self", 10), row(1, "self", 40)])
    assert (est.level, est.recorded_at) == (4, NOW - timedelta(days=10))


def test_highest_verified_level_counts_even_when_a_lower_pass_is_newer() -> None:
    est = one([row(4, "workshop", 200), row(2, "workshop", 5)])
    assert est.level == 4
    assert est.recorded_at == NOW - timedelta(days=200)


def test_confidence_halves_after_one_half_life() -> None:
    fresh = one([row(3, "workshop", 0)])
    aged = one([row(3, "workshop", 100)])
    assert fresh.confidence == pytest.approx(1.0)
    assert aged.confidence == pytest.approx(0.5)


def test_self_assessment_alone_is_less_certain_than_verification() -> None:
    assert one([row(3, "self", 0)]).confidence < one([row(3, "workshop", 0)]).confidence


def test_confidence_falls_when_sources_disagree() -> None:
    agree = one([row(3, "workshop", 0), row(3, "self", 0)])
    one_apart = one([row(3, "workshop", 0), row(4, "self", 0)])
    two_apart = one([row(3, "workshop", 0), row(5, "self", 0)])
    assert agree.confidence > one_apart.confidence > two_apart.confidence
    assert two_apart.confidence == pytest.approx(0.5)


def test_old_verification_is_due_for_reverification() -> None:
    assert one([row(3, "workshop", 301)]).due_for_reverification
    assert not one([row(3, "workshop", 299)]).due_for_reverification
    assert not one([row(3, "self", 999)]).due_for_reverification


def test_estimates_are_per_user_and_skill() -> None:
    rows = [row(2, "self", 1, user=1, skill=1), row(4, "self", 1, user=1, skill=2)]
    rows.append(row(5, "manager", 1, user=2, skill=1))
    result = estimate(rows, now=NOW, settings=SETTINGS)
    assert {k: v.level for k, v in result.items()} == {(1, 1): 2, (1, 2): 4, (2, 1): 5}


# --- with the database -------------------------------------------------------------------


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_loader_matches_the_pure_rule(org, skill_kit) -> None:  # noqa: ANN001
    skill, other = skill_kit.skill("bias"), skill_kit.skill("privacy")
    eve, tom = org.engineer.id, org.teammate.id
    skill_kit.evidence(org.engineer, skill, 2, "self", at=ago(100))
    skill_kit.evidence(org.engineer, skill, 4, "self", at=ago(10))
    skill_kit.evidence(org.engineer, skill, 3, "manager", at=ago(20))
    skill_kit.evidence(org.engineer, skill, 4, "workshop", at=ago(400))
    skill_kit.evidence(org.engineer, skill, 2, "workshop", at=ago(5))
    skill_kit.evidence(org.teammate, other, 1, "self", at=ago(1))
    result = load_estimates(_db.session, now=NOW, settings=SETTINGS)
    assert set(result) == {(eve, skill.id), (tom, other.id)}
    est = result[(eve, skill.id)]
    assert (est.level, est.source, est.claimed_level, est.verified_level) == (4, "workshop", 3, 4)
    assert est.due_for_reverification
    assert load_estimates(_db.session, user_ids=[tom], now=NOW).keys() == {(tom, other.id)}
    assert load_estimates(_db.session, skill_ids=[skill.id], now=NOW).keys() == {(eve, skill.id)}
    assert load_estimates(_db.session, user_ids=[], now=NOW) == {}


def test_self_assessment_appends_and_never_edits(org, skill_kit) -> None:  # noqa: ANN001
    skill = skill_kit.skill("bias")
    record_self_assessment(_db.session, actor=org.engineer, skill_id=skill.id, level=2)
    record_self_assessment(_db.session, actor=org.engineer, skill_id=skill.id, level=3)
    levels = _db.session.scalars(select(SkillEvidence.level).order_by(SkillEvidence.id)).all()
    assert levels == [2, 3]
    assert (
        load_estimates(_db.session, user_ids=[org.engineer.id])[(org.engineer.id, skill.id)].level
        == 3
    )


def test_self_assessment_rejects_a_level_off_the_scale(org, skill_kit) -> None:  # noqa: ANN001
    skill = skill_kit.skill("bias")
    with pytest.raises(InvalidInput):
        record_self_assessment(_db.session, actor=org.engineer, skill_id=skill.id, level=6)


def test_manager_assessment_is_audited(org, skill_kit) -> None:  # noqa: ANN001
    skill = skill_kit.skill("bias")
    record_manager_assessment(
        _db.session, actor=org.manager, engineer_id=org.engineer.id, skill_id=skill.id, level=3
    )
    event = _db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.actor_id, event.target_id) == (
        "skill.manager_assessment",
        org.manager.id,
        org.engineer.id,
    )


def test_manager_cannot_assess_another_teams_engineer(org, skill_kit) -> None:  # noqa: ANN001
    skill = skill_kit.skill("bias")
    with pytest.raises(PermissionDenied):
        record_manager_assessment(
            _db.session,
            actor=org.manager,
            engineer_id=org.other_engineer.id,
            skill_id=skill.id,
            level=3,
        )
    with pytest.raises(PermissionDenied):
        record_manager_assessment(
            _db.session, actor=org.teammate, engineer_id=org.engineer.id, skill_id=skill.id, level=3
        )
    assert _db.session.scalar(select(func.count(SkillEvidence.id))) == 0
