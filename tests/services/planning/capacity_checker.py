"""An independent checker of the capacity rules, written from the rules, not from the optimiser.

It reads only the optimiser's plain inputs (engineers, workshops, requirements, settings) and
the plan it returned, and lists every broken rule in words (an empty list: the plan is valid):

- a person fills a requirement's slot at most once, and no requirement gets more people than
  its headcount; the unfilled counts add up;
- a person holds at most one role (one requirement) per project;
- the shares their planned roles add (a role on a project they are on raises that assignment to
  the role's share; elsewhere it costs the whole share) fit in their availability less their
  existing assignments;
- their training is in order, prerequisites (workshops and levels) first, never repeats a
  passed workshop, brings them to each role's level before its project starts, and the hours
  done by each date fit in their learning budget until then (weekly hours, no hours on the days
  of their holidays);
- the reported training hours and objective are what the plan costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from webapp.services.planning.optimiser import (
    EngineerIn,
    Plan,
    PlanSettings,
    RequirementIn,
    WorkshopIn,
)


def budget(person: EngineerIn, settings: PlanSettings, today: date, until: date) -> float:
    """Learning hours from today until ``until``: a day at a time, none on holidays."""
    per_week = settings.hours_per_week if person.hours_per_week is None else person.hours_per_week
    days = 0
    day = today
    while day < until:
        if not any(start <= day <= end for start, end in person.unavailable):
            days += 1
        day += timedelta(days=1)
    return days / 7 * per_week


def held_levels(
    person: EngineerIn, workshops: Sequence[WorkshopIn], extra: Sequence[WorkshopIn] = ()
) -> dict[int, int]:
    """Levels from the person's evidence, their passed workshops and the ``extra`` ones."""
    levels = dict(person.levels)
    for w in [*workshops, *extra]:
        if w.id in person.passed_workshops or w in extra:
            for skill, level in w.verifies.items():
                levels[skill] = max(levels.get(skill, 0), level)
    return levels


def check_plan(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings,
    plan: Plan,
) -> list[str]:
    """Every rule the plan breaks, in words."""
    today = settings.today or date.today()
    people = {e.id: e for e in engineers}
    reqs = {r.id: r for r in requirements}
    problems = _slot_problems(requirements, plan)
    for person in engineers:
        roles = [reqs[a.requirement_id] for a in plan.assignments if a.engineer_id == person.id]
        problems += _role_problems(person, roles)
        problems += _training_problems(person, workshops, reqs, settings, today, plan)
    hours = sum(t.hours for t in plan.training)
    penalty = sum(
        n * settings.unfilled_penalty_hours * reqs[rid].importance for rid, n in plan.unfilled
    )
    if abs(hours - plan.training_hours) > 1e-6 or abs(hours + penalty - plan.objective) > 1e-6:
        problems.append(f"the plan costs {hours} h + {penalty} h, not {plan.objective}")
    unknown = {a.engineer_id for a in plan.assignments} - set(people)
    if unknown:
        problems.append(f"assignments name unknown people {sorted(unknown)}")
    return problems


def _slot_problems(requirements: Sequence[RequirementIn], plan: Plan) -> list[str]:
    problems = []
    pairs = [(a.engineer_id, a.requirement_id) for a in plan.assignments]
    if len(pairs) != len(set(pairs)):
        problems.append("someone fills the same requirement twice")
    unfilled = dict(plan.unfilled)
    for r in requirements:
        filled = sum(1 for _, rid in pairs if rid == r.id)
        if filled > r.headcount:
            problems.append(f"requirement {r.id} has {filled} people for {r.headcount} slots")
        if filled + unfilled.get(r.id, 0) != r.headcount:
            problems.append(f"requirement {r.id}: filled and unfilled do not add up")
    if plan.unfilled_slots != sum(unfilled.values()):
        problems.append("the unfilled total is wrong")
    return problems


def _role_problems(person: EngineerIn, roles: Sequence[RequirementIn]) -> list[str]:
    problems = []
    projects = [r.project_id for r in roles]
    for project in set(projects):
        if projects.count(project) > 1:
            problems.append(f"{person.name} holds {projects.count(project)} roles on {project}")
    existing = max(person.allocated_pct, sum(person.allocations.values()))
    added = sum(max(r.allocation_pct - person.allocations.get(r.project_id, 0), 0) for r in roles)
    free = max(person.availability_pct - existing, 0)
    if added > free:
        problems.append(f"{person.name}'s new roles add {added} % with {free} % free")
    return problems


def _training_problems(
    person: EngineerIn,
    workshops: Sequence[WorkshopIn],
    reqs: dict[int, RequirementIn],
    settings: PlanSettings,
    today: date,
    plan: Plan,
) -> list[str]:
    problems = []
    by_id = {w.id: w for w in workshops}
    mine = sorted((t for t in plan.training if t.engineer_id == person.id), key=lambda t: t.order)
    done: list[WorkshopIn] = []
    hours = 0.0
    for t in mine:
        w = by_id[t.workshop_id]
        before = held_levels(person, workshops, done)
        passed = person.passed_workshops | {d.id for d in done}
        if w.id in passed:
            problems.append(f"{person.name} takes {w.title} again")
        if not w.prereq_workshops <= passed:
            problems.append(f"{person.name} takes {w.title} before its prerequisites")
        if any(before.get(s, 0) < lvl for s, lvl in w.prereq_levels.items()):
            problems.append(f"{person.name} takes {w.title} without the levels it needs")
        hours += t.hours
        if hours > budget(person, settings, today, t.finish_by) + 1e-6:
            problems.append(f"{person.name} has no learning time for {w.title} by {t.finish_by}")
        done.append(w)
    for a in plan.assignments:
        if a.engineer_id != person.id:
            continue
        r = reqs[a.requirement_id]
        now = held_levels(person, workshops).get(r.skill_id, 0) >= r.min_level
        if a.already_qualified != now:
            problems.append(f"{person.name}'s already-qualified flag is wrong for {r.id}")
        ready = [by_id[t.workshop_id] for t in mine if t.finish_by <= r.start_date]
        if held_levels(person, workshops, ready).get(r.skill_id, 0) < r.min_level:
            problems.append(f"{person.name} is not at level {r.min_level} for {r.id} in time")
    return problems
