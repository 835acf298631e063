"""What-ifs that change the plan's assumptions, each naming the engineers behind it: more
learning time a week, and a project starting later. Each costs one re-plan (with the what-ifs'
short time limit), and is said only when it fills more slots than the plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from webapp.services.planning.optimiser import Plan, plan_training
from webapp.services.planning.optimiser_model import (
    EngineerIn,
    PlanSettings,
    RequirementIn,
    WorkshopIn,
)
from webapp.services.words import and_list, count

EXTRA_HOURS = 2.0  # more learning hours a week, for everyone in the plan
LATER = timedelta(weeks=4)  # how much later a project would start
PROJECTS_TRIED = 3  # the projects with the most unfilled slots
NAMED = 5  # engineers named in a sentence; the rest are counted


def scenarios(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings,
    base: Plan,
) -> tuple[str, ...]:
    """Sentences for the what-ifs that would fill more slots than ``base``, best first."""
    if not base.unfilled_slots:
        return ()
    found = [more_learning_time(engineers, workshops, requirements, settings, base)]
    found += later_starts(engineers, workshops, requirements, settings, base)
    return tuple(text for _, text in sorted((f for f in found if f), key=lambda f: -f[0]))


def more_learning_time(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings,
    base: Plan,
) -> tuple[int, str] | None:
    more = [
        replace(
            e,
            hours_per_week=(
                settings.hours_per_week if e.hours_per_week is None else e.hours_per_week
            )
            + EXTRA_HOURS,
        )
        for e in engineers
    ]
    plan = plan_training(more, workshops, requirements, settings)
    gained = base.unfilled_slots - plan.unfilled_slots
    if gained <= 0:
        return None
    names = _newly_placed(base, plan, engineers)
    return gained, (
        f"With {EXTRA_HOURS:g} more learning hours a week each, "
        f"{count(gained, 'more slot')} would be filled: {_names(names)} could then be trained in "
        "time."
    )


def later_starts(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings,
    base: Plan,
) -> list[tuple[int, str]]:
    open_by_project: dict[int, int] = {}
    by_id = {r.id: r for r in requirements}
    for requirement_id, slots in base.unfilled:
        project = by_id[requirement_id].project_id
        open_by_project[project] = open_by_project.get(project, 0) + slots
    tried = sorted(open_by_project, key=lambda p: (-open_by_project[p], p))[:PROJECTS_TRIED]
    out = []
    for project in tried:
        moved = [
            replace(r, start_date=r.start_date + LATER)
            if r.project_id == project and r.start_date.year < 9999
            else r
            for r in requirements
        ]
        plan = plan_training(engineers, workshops, moved, settings)
        gained = base.unfilled_slots - plan.unfilled_slots
        if gained <= 0:
            continue
        sample = next(r for r in moved if r.project_id == project)
        names = _newly_placed(
            base, plan, engineers, project_of={r.id: r.project_id for r in moved}, project=project
        )
        out.append(
            (
                gained,
                f"If {sample.project_name} started {LATER.days // 7} weeks later (on "
                f"{sample.start_date:%Y-%m-%d}), {count(gained, 'more slot')} would be filled: "
                f"{_names(names)} could be trained by then.",
            )
        )
    return out


def _newly_placed(
    base: Plan,
    plan: Plan,
    engineers: Sequence[EngineerIn],
    *,
    project_of: dict[int, int] | None = None,
    project: int | None = None,
) -> list[str]:
    """The engineers the changed plan places where the plan did not (on ``project``, if given)."""
    before = {(a.engineer_id, a.requirement_id) for a in base.assignments}
    ids = {
        a.engineer_id
        for a in plan.assignments
        if (a.engineer_id, a.requirement_id) not in before
        and (project is None or (project_of or {}).get(a.requirement_id) == project)
    }
    return sorted(e.name for e in engineers if e.id in ids)


def _names(names: list[str]) -> str:
    if not names:
        return "the engineers already planned"
    shown = names[:NAMED]
    if len(names) > NAMED:
        return and_list([*shown, count(len(names) - NAMED, "more engineer")])
    return and_list(shown)


def lending(
    engineers: Sequence[EngineerIn],
    lenders: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings,
    base: Plan,
) -> tuple[int, tuple[str, ...]]:
    """How many more of a team's slots engineers of other teams (``lenders``, with the time
    their own projects leave them) would fill, and who: (0, ()) when none would. Their names
    are for admins only: a manager learning them would learn levels outside their teams."""
    if not base.unfilled_slots or not lenders:
        return 0, ()
    plan = plan_training([*engineers, *lenders], workshops, requirements, settings)
    gained = base.unfilled_slots - plan.unfilled_slots
    if gained <= 0:
        return 0, ()
    placed = {a.engineer_id for a in plan.assignments}
    return gained, tuple(sorted(e.name for e in lenders if e.id in placed))
