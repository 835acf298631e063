"""Gaps and learning paths: targets from projects and profiles, workshops in prerequisite order."""

from __future__ import annotations

from datetime import UTC, date, datetime

from webapp.db import db as _db
from webapp.models import (
    Project,
    ProjectAssignment,
    ProjectRequirement,
    RoleProfile,
    RoleProfileSkill,
)
from webapp.services.skills.estimates import SkillEstimate
from webapp.services.skills.learning_path import (
    Gap,
    WorkshopNode,
    best_workshop_for,
    find_gaps,
    load_workshop_graph,
    plan_path,
    requirements_for,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def est(skill_id: int, level: int) -> SkillEstimate:
    return SkillEstimate(1, skill_id, level, "self", NOW, 0.6, level, None, False)


def gap(skill_id: int, target: int, current: int = 0) -> Gap:
    return Gap(skill_id, f"skill {skill_id}", current, target, ("Project: X",))


INTRO = WorkshopNode(1, "intro", "Intro", 2.0, {10: 1})
MIDDLE = WorkshopNode(2, "middle", "Middle", 3.0, {10: 3}, requires=(1,))
ADVANCED = WorkshopNode(3, "advanced", "Advanced", 4.0, {10: 5}, requires=(2,))
OTHER = WorkshopNode(4, "other", "Other", 1.5, {20: 2})
CATALOG = [ADVANCED, MIDDLE, INTRO, OTHER]


def test_gaps_keep_the_highest_target_and_every_reason() -> None:
    reqs = [(10, "Bias", 3, "Project: Churn"), (10, "Bias", 4, "Profile: ML"), (20, "Ops", 2, "P")]
    gaps = find_gaps(reqs, {10: est(10, 2), 20: est(20, 2)})
    assert gaps == [Gap(10, "Bias", 2, 4, ("Project: Churn", "Profile: ML"))]


def test_a_skill_without_evidence_is_a_gap_from_zero() -> None:
    assert find_gaps([(10, "Bias", 2, "P")], {}) == [Gap(10, "Bias", 0, 2, ("P",))]


def test_best_workshop_reaches_the_target_with_least_overshoot() -> None:
    assert best_workshop_for(CATALOG, 10, 2) == MIDDLE
    assert best_workshop_for(CATALOG, 10, 1) == INTRO
    assert best_workshop_for(CATALOG, 99, 1) is None


def test_path_puts_prerequisites_first_and_sums_hours() -> None:
    path = plan_path([gap(10, 5), gap(20, 2)], CATALOG, passed=set())
    assert [w.slug for w in path.steps] == ["intro", "other", "middle", "advanced"]
    assert path.total_hours == 10.5
    assert path.next_step == INTRO


def test_path_skips_passed_workshops() -> None:
    path = plan_path([gap(10, 3)], CATALOG, passed={1})
    assert [w.slug for w in path.steps] == ["middle"]
    assert path.total_hours == 3.0


def test_gap_no_workshop_verifies_is_reported_uncovered() -> None:
    path = plan_path([gap(99, 3)], CATALOG, passed=set())
    assert path.steps == () and path.next_step is None
    assert [g.skill_id for g in path.uncovered] == [99]


def test_prerequisite_cycle_does_not_hang() -> None:
    a = WorkshopNode(1, "a", "A", 1.0, {10: 2}, requires=(2,))
    b = WorkshopNode(2, "b", "B", 1.0, {11: 2}, requires=(1,))
    assert {w.slug for w in plan_path([gap(10, 2)], [a, b], passed=set()).steps} == {"a", "b"}


def test_requirements_come_from_assigned_open_projects_and_the_profile(org, skill_kit) -> None:  # noqa: ANN001
    bias, ops, far = skill_kit.skill("bias"), skill_kit.skill("ops"), skill_kit.skill("far")
    open_p = Project(name="Churn", team_id=org.team.id, start_date=date(2025, 7, 1))
    done_p = Project(name="Old", team_id=org.team.id, start_date=date(2024, 1, 1), status="done")
    open_p.requirements = [ProjectRequirement(skill_id=bias.id, min_level=3)]
    done_p.requirements = [ProjectRequirement(skill_id=far.id, min_level=3)]
    open_p.assignments = [ProjectAssignment(user_id=org.engineer.id)]
    done_p.assignments = [ProjectAssignment(user_id=org.engineer.id)]
    profile = RoleProfile(name="ML engineer", targets=[RoleProfileSkill(skill_id=ops.id, level=2)])
    _db.session.add_all([open_p, done_p, profile])
    _db.session.flush()
    rows = requirements_for(_db.session, org.engineer.id, profile.id)
    assert sorted(rows) == [
        (bias.id, "Bias", 3, "Project: Churn"),
        (ops.id, "Ops", 2, "Profile: ML engineer"),
    ]
    assert requirements_for(_db.session, org.teammate.id, None) == []


def test_workshop_graph_loads_skills_and_prerequisites(skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    intro = skill_kit.workshop("intro", {bias.id: 2}, hours=1.5)
    deep = skill_kit.workshop("deep", {bias.id: 4}, requires=(intro.id,))
    graph = {w.slug: w for w in load_workshop_graph(_db.session)}
    assert graph["deep"].requires == (intro.id,)
    assert graph["intro"].skills == {bias.id: 2} and graph["intro"].hours == 1.5
    assert deep.id == graph["deep"].id
