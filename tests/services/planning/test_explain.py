"""A plan in words: each unfilled slot says its true reason, and each line appears once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from webapp.services.planning import plan
from webapp.services.planning.inputs import PlanInputs
from webapp.services.planning.optimiser import EngineerIn, PlanSettings, RequirementIn, WorkshopIn

TODAY = date(2025, 1, 6)
SETTINGS = PlanSettings(today=TODAY, time_limit_s=10.0)  # 4 h a week; 40 h x importance penalty
LEVELS = {3: "Competent", 4: "Proficient"}
EVE, TOM = 1, 2


def need(
    rid: int = 100,
    skill: int = 1,
    level: int = 4,
    *,
    heads: int = 1,
    weeks: int = 8,
    alloc: int = 100,
    project: int = 5,
) -> RequirementIn:
    name = {1: "Data quality", 2: "Modelling"}[skill]
    start = TODAY + timedelta(weeks=weeks)
    title = {5: "Feature store", 6: "Churn model"}[project]
    return RequirementIn(rid, project, title, skill, name, level, heads, 3, alloc, start)


def people(*levels: dict[int, int], busy: tuple[int, ...] = ()) -> tuple[EngineerIn, ...]:
    """Eve, then Tom, with their levels; ``busy`` ones give all their time to another project."""
    names = ("Eve Engineer", "Tom Teammate")
    return tuple(
        EngineerIn(i, names[i - 1], lv, allocated_pct=100 if i in busy else 0)
        for i, lv in enumerate(levels, start=1)
    )


def ws(wid: int, hours: float, verifies: dict[int, int], **kw: object) -> WorkshopIn:
    return WorkshopIn(wid, f"W{wid}", hours, verifies, **kw)  # type: ignore[arg-type]


def why(
    engineers: tuple[EngineerIn, ...],
    workshops: tuple[WorkshopIn, ...],
    needs: tuple[RequirementIn, ...],
) -> list[str]:
    report = plan.solve(PlanInputs(engineers, workshops, needs, LEVELS), SETTINGS, what_ifs=False)
    return [u.reason for u in report.unfilled]


def test_a_level_no_workshop_teaches_says_so() -> None:
    reasons = why(people({1: 3}), (ws(10, 3, {1: 3}),), (need(),))
    assert reasons == ["no workshop in the catalog teaches Data quality to level 4"]


def test_a_team_without_engineers_says_there_is_nobody() -> None:
    assert why((), (ws(10, 3, {1: 4}),), (need(),)) == ["there is no engineer to staff it"]


def test_prerequisites_nobody_can_meet_are_named_as_the_reason() -> None:
    locked = ws(10, 3, {1: 4}, prereq_levels={2: 5})  # Modelling 5: nobody, no workshop
    assert why(people({1: 3}), (locked,), (need(),)) == [
        "no one meets the prerequisites of the workshops that teach Data quality to level 4"
    ]


def test_training_longer_than_the_time_left_gives_both_figures() -> None:
    assert why(people({1: 3}), (ws(10, 50, {1: 4}),), (need(weeks=2),)) == [
        "the shortest training to level 4 in Data quality takes 50 h, more than the 8 h of "
        "learning time before Feature store starts on 20 January 2025"
    ]


def test_people_without_time_to_spare_are_named() -> None:
    assert why(people({1: 4}, {1: 4}, busy=(EVE, TOM)), (), (need(),)) == [
        "Eve Engineer and Tom Teammate cannot spare the 100 % of time it asks"
    ]


def test_training_dearer_than_leaving_the_slot_open_says_both_costs() -> None:
    assert why(people({1: 3}), (ws(10, 150, {1: 4}),), (need(weeks=52),)) == [
        "training anyone for it takes at least 150 h, more than the 120 h the plan counts for "
        "leaving it open"
    ]


def test_someone_needed_for_another_slot_is_named() -> None:
    # One week (4 h) of learning: Eve can take one 3 h workshop, not both; Tom has no time.
    workshops = (ws(10, 3, {1: 3}), ws(11, 3, {2: 3}))
    needs = (need(100, 1, 3, weeks=1, alloc=50), need(101, 2, 3, weeks=1, alloc=50, project=6))
    assert why(people({}, {}, busy=(TOM,)), workshops, needs) == [
        "Eve Engineer, who could fill it, is needed for other slots or has no learning time left"
    ]


def test_someone_holding_another_role_on_the_project_is_named() -> None:
    # Eve holds Data quality and Modelling at level 3, but one person holds one role per project.
    needs = (need(100, 1, 3, alloc=50), need(101, 2, 3, alloc=50))
    assert why(people({1: 3, 2: 3}, {}), (), needs) == [
        "Eve Engineer, who could fill it, already holds another role on Feature store (one "
        "person holds one role per project)"
    ]


@pytest.mark.parametrize("skills", [1, 2])
def test_each_hire_and_explanation_line_appears_once(skills: int) -> None:
    needs = tuple(need(100 + s, s) for s in range(1, skills + 1))
    report = plan.solve(PlanInputs(people({1: 3}), (), needs, LEVELS), SETTINGS)
    sentences = [*(u.sentence for u in report.unfilled), *report.hires]
    assert report.hires and len(set(sentences)) == len(sentences)
    assert report.unfilled[0].sentence == (
        "Feature store still lacks 1 person at Proficient in Data quality: no workshop in the "
        "catalog teaches Data quality to level 4; consider hiring."
    )
