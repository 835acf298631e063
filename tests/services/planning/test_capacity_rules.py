"""Capacity is true: every plan the optimiser returns keeps every rule (independent checker)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest

from tests.services.planning.capacity_checker import budget, check_plan
from webapp.services.planning.optimiser import (
    EngineerIn,
    PlannedAssignment,
    PlannedTraining,
    PlanSettings,
    RequirementIn,
    WorkshopIn,
    plan_training,
)

TODAY = date(2025, 1, 6)
SETTINGS = PlanSettings(today=TODAY, time_limit_s=20.0, mip_gap=0.0)


def random_instance(
    seed: int,
) -> tuple[list[EngineerIn], list[WorkshopIn], list[RequirementIn]]:
    """A small organisation where every rule can bind: part-time people, people already on
    projects, several requirements per project, short learning budgets and holidays."""
    rng = random.Random(seed)
    n_skills, n_projects = rng.randint(2, 4), rng.randint(1, 3)
    workshops: list[WorkshopIn] = []
    for wid in range(1, rng.randint(2, 7)):
        earlier = [w.id for w in workshops]
        workshops.append(
            WorkshopIn(
                wid,
                f"W{wid}",
                float(rng.choice([2, 4, 6, 10])),
                {rng.randint(1, n_skills): rng.randint(2, 4)},
                frozenset(rng.sample(earlier, k=min(len(earlier), rng.randint(0, 1)))),
                {rng.randint(1, n_skills): 2} if rng.random() < 0.3 else {},
            )
        )
    requirements = []
    for project in range(1, n_projects + 1):
        start = TODAY + timedelta(weeks=rng.randint(1, 6))
        for skill in rng.sample(range(1, n_skills + 1), k=rng.randint(1, min(3, n_skills))):
            requirements.append(
                RequirementIn(
                    len(requirements) + 1,
                    project,
                    f"P{project}",
                    skill,
                    f"S{skill}",
                    rng.randint(2, 4),
                    rng.randint(1, 3),
                    rng.randint(1, 5),
                    rng.choice([20, 50, 50, 100]),
                    start,
                )
            )
    engineers = [_person(rng, i, n_skills, n_projects, workshops) for i in range(1, 7)]
    return engineers[: rng.randint(2, 6)], workshops, requirements


def _person(
    rng: random.Random, i: int, n_skills: int, n_projects: int, workshops: list[WorkshopIn]
) -> EngineerIn:
    levels = {s: rng.randint(1, 4) for s in range(1, n_skills + 1) if rng.random() < 0.7}
    allocations = {
        p: rng.choice([20, 50, 100]) for p in range(1, n_projects + 1) if rng.random() < 0.3
    }
    holidays: tuple[tuple[date, date], ...] = ()
    if rng.random() < 0.4:
        first = TODAY + timedelta(days=rng.randint(0, 20))
        holidays = ((first, first + timedelta(days=rng.randint(0, 14))),)
    return EngineerIn(
        i,
        f"E{i}",
        levels,
        frozenset(w.id for w in workshops if rng.random() < 0.15),
        sum(allocations.values()) + rng.choice([0, 0, 30]),
        frozenset(allocations),
        allocations,
        rng.choice([100, 100, 80, 50]),
        rng.choice([None, None, 1.0, 6.0]),
        holidays,
    )


@pytest.mark.parametrize("seed", range(60))
def test_every_plan_keeps_every_capacity_rule(seed: int) -> None:
    engineers, workshops, requirements = random_instance(seed)
    plan = plan_training(engineers, workshops, requirements, SETTINGS)
    assert plan.status == "optimal"
    assert check_plan(engineers, workshops, requirements, SETTINGS, plan) == []


def test_the_random_plans_are_not_trivially_empty() -> None:
    # The checker would accept leaving every slot open: the instances must make the optimiser
    # staff and train people, and let the rules bind.
    plans = [plan_training(*random_instance(seed), SETTINGS) for seed in range(60)]
    assert sum(len(p.assignments) for p in plans) > 100
    assert sum(len(p.training) for p in plans) > 20
    assert sum(p.unfilled_slots for p in plans) > 20


def test_the_checker_catches_a_person_in_two_roles_of_one_project() -> None:
    people = [EngineerIn(1, "Ana", {1: 3, 2: 3})]
    start = TODAY + timedelta(weeks=4)
    reqs = [
        RequirementIn(1, 5, "P5", 1, "S1", 3, 1, 3, 50, start),
        RequirementIn(2, 5, "P5", 2, "S2", 3, 1, 3, 50, start),
    ]
    plan = plan_training(people, [], reqs, SETTINGS)
    assert (len(plan.assignments), plan.unfilled_slots) == (1, 1)  # one role per project
    both = replace(
        plan,
        assignments=(PlannedAssignment(1, 1, True), PlannedAssignment(1, 2, True)),
        unfilled=(),
        unfilled_slots=0,
        objective=0.0,
    )
    assert check_plan(people, [], reqs, SETTINGS, both) == ["Ana holds 2 roles on 5"]


def test_holidays_give_no_learning_hours() -> None:
    away = EngineerIn(
        1, "Ana", {}, hours_per_week=7.0, unavailable=((TODAY, TODAY + timedelta(days=6)),)
    )
    assert budget(away, SETTINGS, TODAY, TODAY + timedelta(weeks=2)) == 7.0
    # A 10 h workshop fits two weeks of 7 h but not one week off and one at work.
    start = TODAY + timedelta(weeks=2)
    reqs = [RequirementIn(1, 5, "P5", 1, "S1", 3, 1, 3, 100, start)]
    course = [WorkshopIn(10, "W10", 10.0, {1: 3})]
    at_work = EngineerIn(1, "Ana", {}, hours_per_week=7.0)
    assert plan_training([at_work], course, reqs, SETTINGS).unfilled_slots == 0
    assert plan_training([away], course, reqs, SETTINGS).unfilled_slots == 1


def test_part_time_person_takes_only_the_roles_that_fit() -> None:
    # Availability 80 %, already 20 % elsewhere: one 50 % role fits (60 % free), two do not.
    ana = EngineerIn(1, "Ana", {1: 3}, allocated_pct=20, availability_pct=80)
    start = TODAY + timedelta(weeks=4)
    reqs = [
        RequirementIn(1, 5, "P5", 1, "S1", 3, 1, 3, 50, start),
        RequirementIn(2, 6, "P6", 1, "S1", 3, 1, 3, 50, start),
    ]
    plan = plan_training([ana], [], reqs, SETTINGS)
    assert (len(plan.assignments), plan.unfilled_slots) == (1, 1)


def test_a_role_on_ones_own_project_costs_only_the_share_it_adds() -> None:
    # On P5 at 50 % and nowhere else: a 100 % role on P5 raises it to 100 % (fits), a 100 %
    # role on P6 would make 150 % (does not).
    ana = EngineerIn(1, "Ana", {1: 3}, allocated_pct=50, allocations={5: 50})
    start = TODAY + timedelta(weeks=4)
    own = RequirementIn(1, 5, "P5", 1, "S1", 3, 1, 3, 100, start)
    other = RequirementIn(2, 6, "P6", 1, "S1", 3, 1, 5, 100, start)
    assert plan_training([ana], [], [own], SETTINGS).unfilled_slots == 0
    assert plan_training([ana], [], [other], SETTINGS).unfilled_slots == 1


def test_the_checker_catches_time_and_learning_hours_beyond_what_a_person_has() -> None:
    # Ana has 50 % free and 4 h a week; a plan giving her two 50 % roles on two projects, or a
    # 10 h workshop in the one week before the start, breaks the rules.
    ana = EngineerIn(1, "Ana", {1: 3}, allocated_pct=50)
    start = TODAY + timedelta(weeks=1)
    reqs = [
        RequirementIn(1, 5, "P5", 1, "S1", 3, 1, 3, 50, start),
        RequirementIn(2, 6, "P6", 1, "S1", 3, 1, 3, 50, start),
        RequirementIn(3, 7, "P7", 2, "S2", 3, 1, 3, 0, start),
    ]
    course = [WorkshopIn(10, "W10", 10.0, {2: 3})]
    plan = plan_training([ana], course, reqs, SETTINGS)
    assert (len(plan.assignments), plan.unfilled_slots) == (1, 2)
    greedy = replace(
        plan,
        assignments=(PlannedAssignment(1, 1, True), PlannedAssignment(1, 2, True)),
        training=(PlannedTraining(1, 10, 1, 10.0, start, (3,)),),
        unfilled=((3, 1),),
        unfilled_slots=1,
        training_hours=10.0,
        objective=130.0,
    )
    assert check_plan([ana], course, reqs, SETTINGS, greedy) == [
        "Ana's new roles add 100 % with 50 % free",
        "Ana has no learning time for W10 by 2025-01-13",
    ]
