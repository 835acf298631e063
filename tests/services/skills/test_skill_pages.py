"""The skill pages' read models: the team matrix, coverage, bus factor, history and trends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from webapp.db import db as _db
from webapp.models import Project, ProjectAssignment, ProjectRequirement, WorkshopProgress
from webapp.services.errors import NotFound
from webapp.services.skills import pages
from webapp.services.skills.estimates import EstimateSettings
from webapp.services.skills.levels import EvidenceRow
from webapp.services.skills.trends import month_ends, replay, team_trends

NOW = datetime(2025, 6, 15, tzinfo=UTC)
SETTINGS = EstimateSettings()


def matrix(org, query: pages.MatrixQuery | None = None, *, min_group: int = 2):  # noqa: ANN001, ANN201
    return pages.team_matrix(
        _db.session,
        org.team.id,
        query or pages.MatrixQuery(),
        now=NOW,
        settings=SETTINGS,
        bus_factor_min=2,
        min_group=min_group,
    )


def project(org, skill, level: int, assigned=()) -> Project:  # noqa: ANN001
    p = Project(name=f"P{skill.id}", team_id=org.team.id, start_date=date(2025, 9, 1))
    p.requirements = [ProjectRequirement(skill_id=skill.id, min_level=level)]
    p.assignments = [ProjectAssignment(user_id=u.id) for u in assigned]
    _db.session.add(p)
    _db.session.flush()
    return p


def test_matrix_shows_team_engineers_only_with_verified_marked(org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    skill_kit.evidence(org.engineer, bias, 3, "workshop", at=NOW - timedelta(days=3))
    skill_kit.evidence(org.teammate, bias, 4, "self", at=NOW - timedelta(days=3))
    skill_kit.evidence(org.other_engineer, bias, 5, "self", at=NOW - timedelta(days=3))
    result = matrix(org)
    assert [name for _, name in result.engineers] == ["Eve Engineer", "Tom Teammate"]
    assert [s.code for s in result.skills] == ["bias"]
    assert result.cell(0, 0) == (3, 3, 0, False)
    assert result.cell(1, 0) == (4, 0, 4, False)
    assert result.coverage == [(2, 1)]


def test_coverage_is_hidden_below_the_minimum_group(org, skill_kit) -> None:  # noqa: ANN001
    skill_kit.evidence(org.engineer, skill_kit.skill("bias"), 3, "self", at=NOW)
    assert matrix(org, min_group=3).coverage is None


def test_sort_by_skill_puts_the_highest_level_first(org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    skill_kit.evidence(org.engineer, bias, 1, "self", at=NOW)
    skill_kit.evidence(org.teammate, bias, 4, "self", at=NOW)
    result = matrix(org, pages.MatrixQuery(sort_skill_id=bias.id))
    assert [name for _, name in result.engineers] == ["Tom Teammate", "Eve Engineer"]


def test_category_filter_and_unheld_skills(org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias", category="ethics")
    ops = skill_kit.skill("ops", category="platform")
    skill_kit.skill("unheld", category="platform")
    skill_kit.evidence(org.engineer, bias, 2, "self", at=NOW)
    skill_kit.evidence(org.engineer, ops, 2, "self", at=NOW)
    assert [s.code for s in matrix(org).skills] == ["bias", "ops"]
    only = matrix(org, pages.MatrixQuery(category_id=ops.category_id, show_all=True))
    assert [s.code for s in only.skills] == ["ops", "unheld"]


def test_project_filter_limits_people_and_skills_and_uses_its_level(org, skill_kit) -> None:  # noqa: ANN001
    bias, ops = skill_kit.skill("bias"), skill_kit.skill("ops")
    p = project(org, bias, 4, assigned=[org.teammate])
    skill_kit.evidence(org.teammate, bias, 3, "self", at=NOW)
    skill_kit.evidence(org.teammate, ops, 3, "self", at=NOW)
    result = matrix(org, pages.MatrixQuery(project_id=p.id), min_group=1)
    assert [name for _, name in result.engineers] == ["Tom Teammate"]
    assert [s.code for s in result.skills] == ["bias"]
    assert result.coverage == [(0, 0)]  # level 3 does not meet the project's 4


def test_project_filter_leaves_out_team_engineers_who_are_not_on_it(org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    p = project(org, bias, 3, assigned=[org.teammate])
    skill_kit.evidence(org.engineer, bias, 4, "self", at=NOW)  # in the team, not on the project
    skill_kit.evidence(org.teammate, bias, 3, "workshop", at=NOW)
    result = matrix(org, pages.MatrixQuery(project_id=p.id), min_group=1)
    assert result.engineers == [(org.teammate.id, "Tom Teammate")]
    assert result.cell(0, 0) == (3, 3, 0, False)
    assert result.coverage == [(1, 1)]


def test_project_filter_takes_only_the_teams_own_projects(org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    elsewhere = Project(name="Elsewhere", team_id=org.other_team.id, start_date=date(2025, 9, 1))
    elsewhere.requirements = [ProjectRequirement(skill_id=bias.id, min_level=5)]
    _db.session.add(elsewhere)
    _db.session.flush()
    with pytest.raises(NotFound, match="not a project of Applied ML"):
        matrix(org, pages.MatrixQuery(project_id=elsewhere.id))


def test_bus_factor_warns_when_too_few_hold_a_needed_skill_verified(org, skill_kit) -> None:  # noqa: ANN001
    bias, ops = skill_kit.skill("bias"), skill_kit.skill("ops")
    project(org, bias, 3)
    project(org, ops, 2)
    for user in (org.engineer, org.teammate):
        skill_kit.evidence(user, ops, 2, "workshop", at=NOW)
    skill_kit.evidence(org.engineer, bias, 3, "workshop", at=NOW)
    skill_kit.evidence(org.teammate, bias, 5, "self", at=NOW)  # claimed does not count
    warnings = matrix(org).warnings
    assert [(w.skill_name, w.verified_holders) for w in warnings] == [("Bias", 1)]


def test_history_lists_every_evidence_row(org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    skill_kit.evidence(org.engineer, bias, 2, "self", at=NOW - timedelta(days=9))
    skill_kit.evidence(org.engineer, bias, 3, "self", at=NOW)
    assert [h.level for h in pages.history(_db.session, org.engineer.id)] == [3, 2]


def test_month_ends_cover_the_last_months_oldest_first() -> None:
    ends = month_ends(NOW, 3)
    assert [label for label, _ in ends] == ["2025-04", "2025-05", "2025-06"]
    assert ends[0][1] == datetime(2025, 5, 1, tzinfo=UTC) and ends[-1][1] == NOW


def test_trends_replay_the_history_month_by_month() -> None:
    rows = [
        EvidenceRow(1, 7, 3, "self", datetime(2025, 4, 10, tzinfo=UTC)),
        EvidenceRow(1, 7, 3, "workshop", datetime(2025, 5, 10, tzinfo=UTC)),
        EvidenceRow(2, 8, 1, "self", datetime(2025, 6, 1, tzinfo=UTC)),
    ]
    passes = [datetime(2025, 5, 10, tzinfo=UTC)]
    points = replay(rows, passes, now=NOW, months=3, settings=SETTINGS)
    assert [(p.verified_pairs, p.claimed_only_pairs) for p in points] == [(0, 1), (1, 0), (1, 1)]
    assert [p.skills_covered for p in points] == [1, 1, 1]
    assert [p.workshops_passed for p in points] == [0, 1, 0]
    assert points[-1].mean_level == 2.0


def test_team_trends_load_the_groups_evidence(org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    skill_kit.evidence(org.engineer, bias, 3, "self", at=NOW - timedelta(days=1))
    skill_kit.evidence(org.other_engineer, bias, 3, "self", at=NOW - timedelta(days=1))
    shop = skill_kit.workshop("intro", {bias.id: 2})
    _db.session.add(
        WorkshopProgress(
            user_id=org.engineer.id, workshop_id=shop.id, passed_at=NOW - timedelta(days=2)
        )
    )
    _db.session.flush()
    points = team_trends(_db.session, [org.engineer.id], now=NOW, settings=SETTINGS, months=2)
    assert points[-1].claimed_only_pairs == 1
    assert points[-1].workshops_passed == 1
