"""What-ifs that change the plan's assumptions — more learning time, a later start — each say
how many more slots they fill and name the engineers behind them, and only when they help; and
the due dates of a line's workshops, staggered by the engineer's learning time."""

from __future__ import annotations

from datetime import date, timedelta

from webapp.services.planning.optimiser import (
    EngineerIn,
    PlanSettings,
    RequirementIn,
    WorkshopIn,
    plan_training,
)
from webapp.services.planning.scenarios import lending, scenarios

TODAY = date(2025, 1, 6)
SETTINGS = PlanSettings(today=TODAY, time_limit_s=10)  # 4 learning hours a week


def requirement(weeks: int) -> RequirementIn:
    start = TODAY + timedelta(weeks=weeks)
    return RequirementIn(100, 5, "Churn model", 1, "Modelling", 3, 1, 3, 100, start)


ADA = EngineerIn(1, "Ada Lovelace", {1: 2})
COURSE = WorkshopIn(10, "Modelling II", 10.0, {1: 3})


def test_more_learning_time_and_a_later_start_are_said_with_the_engineer_they_would_train() -> None:
    # Two weeks of 4 h cannot hold the 10 h workshop; 6 h a week, or six weeks, can.
    reqs = [requirement(weeks=2)]
    base = plan_training([ADA], [COURSE], reqs, SETTINGS)
    assert base.unfilled_slots == 1
    said = scenarios([ADA], [COURSE], reqs, SETTINGS, base)
    assert said == (
        "With 2 more learning hours a week each, 1 more slot would be filled: Ada Lovelace could "
        "then be trained in time.",
        "If Churn model started 4 weeks later (on 2025-02-17), 1 more slot would be filled: Ada "
        "Lovelace could be trained by then.",
    )


def test_nothing_is_said_when_no_change_would_help() -> None:
    # Nobody holds or can learn the skill: neither time nor a later start fills the slot.
    reqs = [requirement(weeks=2)]
    unrelated = WorkshopIn(11, "Ops I", 10.0, {2: 3})
    base = plan_training([ADA], [unrelated], reqs, SETTINGS)
    assert base.unfilled_slots == 1
    assert scenarios([ADA], [unrelated], reqs, SETTINGS, base) == ()


def test_a_plan_with_every_slot_filled_tries_nothing() -> None:
    reqs = [requirement(weeks=10)]
    base = plan_training([ADA], [COURSE], reqs, SETTINGS)
    assert base.unfilled_slots == 0
    assert scenarios([ADA], [COURSE], reqs, SETTINGS, base) == ()


def test_a_lines_workshops_are_due_one_after_another_not_all_at_the_start() -> None:
    # Two 8-hour workshops, the second building on the first, for a project in 8 weeks at 4 h a
    # week: the second is due by the start, the first two weeks (8 h) before it.
    basics = WorkshopIn(20, "Modelling I", 8.0, {1: 2})
    advanced = WorkshopIn(21, "Modelling II", 8.0, {1: 3}, prereq_workshops=frozenset({20}))
    newcomer = EngineerIn(2, "Ben Carter", {})
    reqs = [requirement(weeks=8)]
    plan = plan_training([newcomer], [basics, advanced], reqs, SETTINGS)
    steps = sorted(plan.training, key=lambda t: t.order)
    assert [(t.workshop_id, t.finish_by) for t in steps] == [
        (20, TODAY + timedelta(weeks=6)),
        (21, TODAY + timedelta(weeks=8)),
    ]


def test_lending_counts_the_slots_other_teams_would_fill_and_names_who_for_admins() -> None:
    # Nobody in the team holds Modelling 3 and no workshop teaches it; Pat, of another team,
    # holds it and has half their time free.
    reqs = [RequirementIn(100, 5, "Churn model", 1, "Modelling", 3, 1, 3, 50, TODAY)]
    own = [EngineerIn(1, "Ada Lovelace", {1: 1})]
    pat = EngineerIn(7, "Pat Platform", {1: 4}, allocated_pct=50)
    busy = EngineerIn(8, "Bo Busy", {1: 4}, allocated_pct=100)
    base = plan_training(own, [], reqs, SETTINGS)
    assert base.unfilled_slots == 1
    assert lending(own, [pat, busy], [], reqs, SETTINGS, base) == (1, ("Pat Platform",))
    assert lending(own, [busy], [], reqs, SETTINGS, base) == (0, ())  # no time to spare
