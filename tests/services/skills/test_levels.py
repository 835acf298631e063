"""The one current-level rule: its pure combine, its SQL half, and every page that uses it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.conftest import Org
from tests.staffing_factories import (
    make_project,
    make_skill,
    make_submission,
    make_workshop,
)
from webapp.db import db as _db
from webapp.models import EvidenceSource, Skill, SkillEvidence, User
from webapp.services.planning import plan
from webapp.services.skills import levels, pages
from webapp.services.skills.estimates import EstimateSettings
from webapp.services.skills.levels import DecidingEvidence, EvidenceRow
from webapp.services.staffing import gaps

NOW = datetime(2025, 6, 1, tzinfo=UTC)
SOURCES = (EvidenceSource.WORKSHOP, EvidenceSource.MANAGER, EvidenceSource.SELF)


def row(level: int, source: str, days_ago: float, user: int = 1, skill: int = 7) -> EvidenceRow:
    return EvidenceRow(user, skill, level, source, NOW - timedelta(days=days_ago))


def decide(rows: list[EvidenceRow]) -> DecidingEvidence:
    result = levels.combine(rows)
    assert len(result) == 1
    return next(iter(result.values()))


# --- the pure combine -----------------------------------------------------------------------


def test_verified_level_is_current_even_against_newer_claims() -> None:
    found = decide([row(2, "workshop", 50), row(4, "manager", 1), row(5, "self", 0)])
    assert found.level == 2
    assert found.winner == found.verified == row(2, "workshop", 50)
    assert found.claim == row(4, "manager", 1)


def test_manager_assessment_is_current_against_a_newer_self_assessment() -> None:
    found = decide([row(3, "manager", 30), row(5, "self", 1)])
    assert (found.level, found.verified, found.self_assessed) == (3, None, row(5, "self", 1))


def test_newest_assessment_of_each_source_decides() -> None:
    found = decide(
        [row(2, "self", 90), row(4, "self", 10), row(1, "manager", 5), row(3, "manager", 1)]
    )
    assert (found.self_assessed, found.manager) == (row(4, "self", 10), row(3, "manager", 1))
    assert found.rows == (row(3, "manager", 1), row(4, "self", 10))


def test_a_lower_workshop_pass_later_does_not_undo_a_higher_one() -> None:
    assert decide([row(4, "workshop", 200), row(2, "workshop", 5)]).verified == row(
        4, "workshop", 200
    )
    assert decide([row(3, "workshop", 90), row(3, "workshop", 9)]).verified == row(3, "workshop", 9)


def test_on_equal_times_the_row_recorded_later_decides() -> None:
    assert decide([row(2, "self", 3), row(4, "self", 3)]).level == 4
    assert decide([row(4, "self", 3), row(2, "self", 3)]).level == 2


def test_levels_are_per_user_and_skill() -> None:
    rows = [row(2, "self", 1, user=1, skill=1), row(4, "self", 1, user=1, skill=2)]
    rows.append(row(5, "manager", 1, user=2, skill=1))
    assert {k: d.level for k, d in levels.combine(rows).items()} == {
        (1, 1): 2,
        (1, 2): 4,
        (2, 1): 5,
    }


def test_combining_the_deciding_rows_again_changes_nothing() -> None:
    rng = random.Random(3)
    sources = ("workshop", "manager", "self")
    rows = [
        row(rng.randint(1, 5), rng.choice(sources), rng.randint(0, 9), user=rng.randint(1, 3))
        for _ in range(200)
    ]
    first = levels.combine(rows)
    again = levels.combine(r for d in first.values() for r in d.rows)
    assert again == first


# --- the SQL half, on the database ------------------------------------------------------------


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_sql_keeps_the_one_deciding_row_of_each_source(org, skill_kit) -> None:  # noqa: ANN001
    skill = skill_kit.skill("bias")
    for level, source, days in [
        (2, "self", 100),
        (4, "self", 10),
        (3, "manager", 20),
        (4, "workshop", 400),
        (2, "workshop", 5),
    ]:
        skill_kit.evidence(org.engineer, skill, level, source, at=ago(days))
    query = levels.deciding_rows(user_ids=[org.engineer.id])
    found = {EvidenceRow._make(r) for r in _db.session.execute(query)}
    eve = org.engineer.id
    assert found == {
        EvidenceRow(eve, skill.id, 4, "self", ago(10)),
        EvidenceRow(eve, skill.id, 3, "manager", ago(20)),
        EvidenceRow(eve, skill.id, 4, "workshop", ago(400)),
    }
    assert levels.current_levels(_db.session) == {(eve, skill.id): 4}


def test_sql_gives_a_tie_on_time_to_the_row_recorded_later(org, skill_kit) -> None:  # noqa: ANN001
    bias, privacy = skill_kit.skill("bias"), skill_kit.skill("privacy")
    skill_kit.evidence(org.engineer, bias, 2, "self", at=ago(3))
    skill_kit.evidence(org.engineer, bias, 4, "self", at=ago(3))
    skill_kit.evidence(org.engineer, privacy, 4, "self", at=ago(3))
    skill_kit.evidence(org.engineer, privacy, 2, "self", at=ago(3))
    eve = org.engineer.id
    assert levels.current_levels(_db.session) == {(eve, bias.id): 4, (eve, privacy.id): 2}


def test_loaders_filter_by_ids_or_by_a_subquery(org, skill_kit) -> None:  # noqa: ANN001
    bias, privacy = skill_kit.skill("bias"), skill_kit.skill("privacy")
    eve, tom = org.engineer.id, org.teammate.id
    skill_kit.evidence(org.engineer, bias, 2, "self", at=ago(1))
    skill_kit.evidence(org.teammate, privacy, 3, "manager", at=ago(1))
    assert levels.current_levels(_db.session, user_ids=[tom]) == {(tom, privacy.id): 3}
    assert levels.current_levels(_db.session, skill_ids=[bias.id]) == {(eve, bias.id): 2}
    named_eve = select(User.id).where(User.email == "eve@example.com")
    assert levels.current_levels(_db.session, user_ids=named_eve) == {(eve, bias.id): 2}
    code_privacy = select(Skill.id).where(Skill.code == "privacy")
    assert levels.load(_db.session, skill_ids=code_privacy).keys() == {(tom, privacy.id)}
    assert levels.current_levels(_db.session, user_ids=[]) == {}
    assert levels.load(_db.session, user_ids=[eve], skill_ids=[]) == {}


def generate_evidence(people: list[User], skills: list[Skill], n: int = 150) -> None:
    """Random evidence over a few days: equal times are common, and so are pairs without
    verified evidence, where the claims' ties decide."""
    rng = random.Random(4)
    workshop = make_workshop("w", skills[0], 3)
    submissions = {p.id: make_submission(p, workshop) for p in people}
    now = datetime.now(UTC).replace(microsecond=0)
    for _ in range(n):
        source = rng.choices(SOURCES, weights=(1, 1, 8))[0]
        user = rng.choice(people).id
        _db.session.add(
            SkillEvidence(
                user_id=user,
                skill_id=rng.choice(skills).id,
                level=rng.randint(1, 5),
                source=source.value,
                recorded_at=now - timedelta(days=rng.randint(0, 3)),
                submission_id=submissions[user] if source == EvidenceSource.WORKSHOP else None,
            )
        )
    _db.session.flush()


def rule_over_every_row() -> dict[tuple[int, int], int]:
    """The pure rule applied to all evidence ever recorded, in recording order (no SQL rule)."""
    ev = SkillEvidence
    query = select(ev.user_id, ev.skill_id, ev.level, ev.source, ev.recorded_at).order_by(ev.id)
    rows = [
        EvidenceRow(r.user_id, r.skill_id, r.level, r.source, r.recorded_at)
        for r in _db.session.execute(query)
    ]
    return {key: d.level for key, d in levels.combine(rows).items()}


def test_sql_half_equals_the_pure_rule_on_generated_evidence(org: Org) -> None:
    skills = [make_skill(f"s{i}") for i in range(4)]
    generate_evidence([org.engineer, org.teammate, org.other_engineer], skills)
    expected = rule_over_every_row()
    assert levels.current_levels(_db.session) == expected and len(expected) == 12


def test_gaps_matrix_and_optimiser_inputs_agree_with_the_one_rule(org: Org) -> None:
    """The gaps page, the skill matrix and the plan's inputs show the same level for every pair."""
    skills = [make_skill(f"s{i}") for i in range(4)]
    people = [org.engineer, org.teammate, org.other_engineer]
    generate_evidence(people, skills)
    needs = tuple((s, 3, 1) for s in skills)
    make_project(org.team, "A", needs=needs, people=(org.engineer, org.teammate))
    make_project(org.other_team, "B", needs=needs, people=(org.other_engineer,))
    expected = rule_over_every_row()
    assert len(expected) == 12

    on_gaps = {
        (a.user_id, g.req.skill_id): a.level
        for g in gaps.gaps(_db.session, viewer=None, with_assignees=True)
        for a in g.assignees
    }
    assert on_gaps == expected

    on_matrix = {}
    for team in (org.team, org.other_team):
        m = pages.team_matrix(
            _db.session,
            team.id,
            pages.MatrixQuery(show_all=True),
            now=datetime.now(UTC),
            settings=EstimateSettings(),
            bus_factor_min=1,
            min_group=1,
        )
        for i, (uid, _) in enumerate(m.engineers):
            for j, skill in enumerate(m.skills):
                on_matrix[(uid, skill.id)] = int(m.levels[i, j])
    assert on_matrix == expected

    inputs = plan.load_inputs(_db.session, None)
    on_plan = {(e.id, sid): lv for e in inputs.engineers for sid, lv in e.levels.items()}
    assert on_plan == expected and {e.id for e in inputs.engineers} == {p.id for p in people}
