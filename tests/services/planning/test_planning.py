"""The plan loader and its explanations: database rows in, sentences a manager can act on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.conftest import Org
from tests.staffing_factories import (
    give_level,
    make_levels,
    make_project,
    make_skill,
    make_workshop,
    solved_plan,
)
from webapp.db import db as _db
from webapp.models import UnavailablePeriod, WorkshopProgress
from webapp.services.planning import plan, runs
from webapp.services.planning.optimiser import PlanSettings

SETTINGS = PlanSettings(hours_per_week=4.0, time_limit_s=10.0)


def test_loader_reads_levels_passes_allocations_and_team_scope(org: Org) -> None:
    ml = make_skill("ml", "Modelling")
    basics = make_workshop("ml-basics", ml, 2)
    give_level(org.engineer, ml, 2)
    _db.session.add(
        WorkshopProgress(
            user_id=org.engineer.id, workshop_id=basics.id, passed_at=datetime.now(UTC)
        )
    )
    project = make_project(org.team, needs=((ml, 3, 1),), people=(org.engineer,), allocation=60)
    make_project(org.other_team, "Elsewhere", needs=((ml, 3, 1),))
    inputs = plan.load_inputs(_db.session, [org.team.id])
    by_id = {e.id: e for e in inputs.engineers}
    assert set(by_id) == {org.engineer.id, org.teammate.id}  # managers are not staffed
    eve = by_id[org.engineer.id]
    assert eve.levels == {ml.id: 2}
    assert eve.passed_workshops == frozenset({basics.id})
    assert (eve.allocated_pct, eve.assigned_projects) == (60, frozenset({project.id}))
    assert eve.allocations == {project.id: 60}
    assert (eve.availability_pct, eve.hours_per_week, eve.unavailable) == (100, None, ())
    assert [r.project_name for r in inputs.requirements] == ["Churn model"]
    assert [w.verifies for w in inputs.workshops] == [{ml.id: 2}]


def test_loader_reads_availability_learning_budget_and_holidays(org: Org) -> None:
    ml = make_skill("ml", "Modelling")
    make_project(org.team, needs=((ml, 3, 1),))
    org.engineer.availability_pct, org.engineer.learning_hours_per_week = 60, 2.5
    away = (date(2027, 4, 1), date(2027, 4, 9))
    _db.session.add(UnavailablePeriod(user_id=org.engineer.id, starts_on=away[0], ends_on=away[1]))
    _db.session.flush()
    eve = next(
        e
        for e in plan.load_inputs(_db.session, [org.team.id]).engineers
        if e.name == "Eve Engineer"
    )
    assert (eve.availability_pct, eve.hours_per_week, eve.unavailable) == (60, 2.5, (away,))


def test_plan_is_explained_in_words_with_the_workshops_in_order(org: Org) -> None:
    make_levels()
    ml = make_skill("interpretability", "Model interpretability")
    intro = make_workshop("interpretability-basics", ml, 2, hours=4)
    make_workshop("interpretability-in-practice", ml, 4, hours=6, requires=intro)
    give_level(org.engineer, ml, 1)
    project = make_project(org.team, needs=((ml, 4, 1),), people=(org.engineer,), weeks=8)
    inputs = plan.load_inputs(_db.session, [org.team.id])
    report = plan.solve(inputs, SETTINGS, what_ifs=False)
    assert report.plan.status == "optimal" and report.plan.unfilled_slots == 0
    [line] = report.lines
    due = project.start_date
    assert line.sentence == (
        f"Eve Engineer reaches Proficient in Model interpretability for Churn model by "
        f"{due.day} {due:%B %Y}: take Interpretability Basics, 4 h, then "
        "Interpretability In Practice, 6 h"
    )
    assert line.hours == 10
    assert "Optimal" in report.status_text


def test_unreachable_requirement_is_reported_unfilled_with_advice(org: Org) -> None:
    make_levels()
    ml = make_skill("ml", "Modelling")
    make_workshop("ml-advanced", ml, 4, hours=200)  # cannot fit before the start date
    make_project(org.team, needs=((ml, 4, 1),), weeks=2)
    report = plan.solve(plan.load_inputs(_db.session, [org.team.id]), SETTINGS)
    [unfilled] = report.unfilled
    assert unfilled.slots == 1
    start = date.today() + timedelta(weeks=2)
    assert unfilled.sentence == (
        "Churn model still lacks 1 person at Proficient in Modelling: the shortest training to "
        "level 4 in Modelling takes 200 h, more than the 8 h of learning time before Churn model "
        f"starts on {start.day} {start:%B %Y}; consider hiring."
    )
    assert report.hires == (
        "One more hire at Proficient in Modelling fills 1 more slot and saves 120 planning hours "
        "(training plus unfilled penalty).",
    )


def test_workshop_impact_names_the_workshop_closing_most_demand(org: Org) -> None:
    make_levels()
    ml = make_skill("ml", "Modelling")
    make_workshop("ml-competent", ml, 3, hours=6)  # longer than the 4 h left before the start
    make_project(org.team, needs=((ml, 3, 2),), weeks=1)
    report = plan.solve(plan.load_inputs(_db.session, [org.team.id]), SETTINGS)
    assert report.plan.unfilled_slots == 2
    [impact] = report.impacts
    assert impact.describe() == (
        "Eve Engineer and Tom Teammate passing Ml Competent close 100% of the unmet demand"
    )


def test_a_stored_plan_reads_back_whole_and_knows_when_the_data_changed(org: Org) -> None:
    make_levels()
    ml = make_skill("ml")
    make_workshop("ml-three", ml, 3, hours=5)
    make_project(org.team, needs=((ml, 3, 1),), people=(org.engineer,))
    _db.session.commit()
    run = solved_plan(org.team)
    report = runs.report_of(run)
    assert report.lines and report.plan.training
    assert plan.PlanReport.from_json(report.to_json()) == report  # JSON loses nothing
    assert runs.is_current(_db.session, run)
    give_level(org.teammate, ml, 2)
    _db.session.commit()
    assert not runs.is_current(_db.session, run)
