"""The organisation-wide plan in parts: every rule kept (independent checker), never worse than
the teams' own plans combined, and a gap that is true (the bound never beats the optimum)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.services.planning.capacity_checker import check_plan
from tests.services.planning.test_capacity_rules import SETTINGS, random_instance
from webapp.services.planning import decompose
from webapp.services.planning.decompose import Part, lower_bound, plan_in_parts
from webapp.services.planning.optimiser import (
    EngineerIn,
    PlanSettings,
    RequirementIn,
    WorkshopIn,
    plan_training,
)


def in_teams(
    seed: int, engineers: list[EngineerIn], requirements: list[RequirementIn]
) -> list[Part]:
    """Two or three teams, engineers and projects dealt out at random."""
    rng = random.Random(seed)
    n = rng.randint(2, 3)
    team_of_project = {r.project_id: rng.randrange(n) for r in requirements}
    team_of_person = {e.id: rng.randrange(n) for e in engineers}
    return [
        Part(
            frozenset(e.id for e in engineers if team_of_person[e.id] == t),
            frozenset(r.id for r in requirements if team_of_project[r.project_id] == t),
        )
        for t in range(n)
    ]


@pytest.fixture()
def in_parts_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan in parts even where one model would do (these organisations are small)."""
    monkeypatch.setattr(decompose, "WHOLE_MODEL_MAX_PAIRS", 0)


@pytest.mark.usefixtures("in_parts_always")
@pytest.mark.parametrize("seed", range(40))
def test_a_plan_in_parts_keeps_every_rule_and_beats_the_teams_own_plans(seed: int) -> None:
    engineers, workshops, requirements = random_instance(seed)
    parts = in_teams(seed, engineers, requirements)
    plan = plan_in_parts(engineers, workshops, requirements, SETTINGS, parts)
    assert check_plan(engineers, workshops, requirements, SETTINGS, plan) == []

    own = 0.0  # each team's engineers for its own slots, solved apart, penalties for the rest
    for part in parts:
        mine = [r for r in requirements if r.id in part.requirement_ids]
        people = [e for e in engineers if e.id in part.engineer_ids]
        if mine:
            own += plan_training(people, workshops, mine, SETTINGS).objective
    assert plan.objective <= own + 1e-6


@pytest.mark.usefixtures("in_parts_always")
@pytest.mark.parametrize("seed", range(40))
def test_the_bound_and_the_gap_never_claim_more_than_is_true(seed: int) -> None:
    engineers, workshops, requirements = random_instance(seed)
    best = plan_training(engineers, workshops, requirements, SETTINGS)  # proven optimal
    assert best.status == "optimal"
    assert lower_bound(engineers, workshops, requirements, SETTINGS) <= best.objective + 1e-6

    plan = plan_in_parts(
        engineers, workshops, requirements, SETTINGS, in_teams(seed, engineers, requirements)
    )
    assert plan.objective >= best.objective - 1e-6
    assert plan.objective * (1 - plan.gap) <= best.objective + 1e-6


def test_a_small_organisation_is_solved_as_one_model() -> None:
    engineers, workshops, requirements = random_instance(3)
    whole = plan_training(engineers, workshops, requirements, SETTINGS)
    plan = plan_in_parts(
        engineers, workshops, requirements, SETTINGS, in_teams(3, engineers, requirements)
    )
    assert (plan.status, plan.objective) == ("optimal", whole.objective)


@pytest.mark.usefixtures("in_parts_always")
def test_lending_across_teams_fills_what_no_team_can_alone() -> None:
    # Team A needs a level its own people lack; team B's expert is free: the plan lends them.
    expert = EngineerIn(1, "Bea", {7: 4})
    novice = EngineerIn(2, "Al", {})
    need = RequirementIn(1, 10, "Vision", 7, "CV", 4, 1, 3, 50)
    settings = PlanSettings(today=SETTINGS.today, time_limit_s=10.0)
    parts = [Part(frozenset({2}), frozenset({1})), Part(frozenset({1}), frozenset())]
    plan = plan_in_parts([expert, novice], [], [need], settings, parts)
    assert [(a.engineer_id, a.requirement_id) for a in plan.assignments] == [(1, 1)]
    assert (plan.unfilled_slots, plan.status, plan.gap) == (0, "optimal", 0.0)


@pytest.mark.usefixtures("in_parts_always")
def test_the_time_limit_holds_when_the_parts_run_out_of_time() -> None:
    engineers, workshops, requirements = random_instance(5)
    settings = replace(SETTINGS, time_limit_s=0.01)
    plan = plan_in_parts(
        engineers, workshops, requirements, settings, in_teams(5, engineers, requirements)
    )
    assert check_plan(engineers, workshops, requirements, settings, plan) == []
    assert plan.status in ("optimal", "bounded")


@pytest.mark.usefixtures("in_parts_always")
def test_training_planned_for_one_skill_leaves_less_learning_time_for_the_next() -> None:
    # Eight learning hours before either project starts; each skill needs a six-hour workshop.
    person = EngineerIn(1, "Cy", {}, hours_per_week=2.0)
    workshops = [
        WorkshopIn(1, "Tabular", 6.0, {1: 3}),
        WorkshopIn(2, "Vision", 6.0, {2: 3}),
    ]
    starts = SETTINGS.today + timedelta(weeks=4)
    needs = [
        RequirementIn(1, 10, "Churn", 1, "Tabular", 3, 1, 3, 50, starts),
        RequirementIn(2, 20, "Scans", 2, "Vision", 3, 1, 2, 50, starts),
    ]
    parts = [Part(frozenset(), frozenset({1, 2})), Part(frozenset({1}), frozenset())]
    plan = plan_in_parts([person], workshops, needs, SETTINGS, parts)
    assert check_plan([person], workshops, needs, SETTINGS, plan) == []
    assert [(t.workshop_id, t.hours) for t in plan.training] == [(1, 6.0)]
    assert plan.unfilled == ((2, 1),)
