"""Staffing-plan optimiser: who fills which slot, after which workshops, at least training time.

The model (see `optimiser_model`) is a MILP solved by HiGHS. Columns are
x[e, r] (engineer e fills one slot of requirement r), t[e, w, k] (e has passed workshop w by the
k-th distinct project start date) and u[r] (slots of r left unfilled). Training is sequential, so
the workshops due by each date must fit in the engineer's learning hours until then (their weekly
budget, less their holidays); workshops are then ordered earliest deadline first, prerequisites
before dependants. Capacity is true: an engineer fills a slot once (x is binary), holds one role
per project, and the shares their new roles add never exceed what their availability leaves
after their existing assignments.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import highspy
import numpy as np

from webapp.services.planning.optimiser_model import (
    Earlier,
    EngineerIn,
    Instance,
    PlanSettings,
    RequirementIn,
    WorkshopIn,
)
from webapp.services.planning.optimiser_rows import Model, build_model
from webapp.services.words import and_list, count

__all__ = [
    "EngineerIn",
    "Plan",
    "PlanSettings",
    "PlannedAssignment",
    "PlannedTraining",
    "RequirementIn",
    "WorkshopIn",
    "plan_training",
]


@dataclass(frozen=True)
class PlannedAssignment:
    """Engineer fills one slot of a requirement; `already_qualified` means no training needed."""

    engineer_id: int
    requirement_id: int
    already_qualified: bool


@dataclass(frozen=True)
class PlannedTraining:
    """The `order`-th workshop (1-based) an engineer takes, due by `finish_by`."""

    engineer_id: int
    workshop_id: int
    order: int
    hours: float
    finish_by: date
    for_requirements: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """A staffing and training plan and how good it provably is (`gap` is relative)."""

    status: str
    objective: float
    gap: float
    training_hours: float
    unfilled_slots: int
    unfilled: tuple[tuple[int, int], ...]
    assignments: tuple[PlannedAssignment, ...]
    training: tuple[PlannedTraining, ...]
    solve_seconds: float

    def to_json(self) -> dict[str, object]:
        """Plain JSON types only: dates as ISO strings, an unknown gap as None."""
        return {
            "status": self.status,
            "objective": self.objective,
            "gap": self.gap if math.isfinite(self.gap) else None,
            "training_hours": self.training_hours,
            "unfilled_slots": self.unfilled_slots,
            "unfilled": [{"requirement_id": r, "slots": n} for r, n in self.unfilled],
            "assignments": [
                {
                    "engineer_id": a.engineer_id,
                    "requirement_id": a.requirement_id,
                    "already_qualified": a.already_qualified,
                }
                for a in self.assignments
            ],
            "training": [
                {
                    "engineer_id": t.engineer_id,
                    "workshop_id": t.workshop_id,
                    "order": t.order,
                    "hours": t.hours,
                    "finish_by": t.finish_by.isoformat(),
                    "for_requirements": list(t.for_requirements),
                }
                for t in self.training
            ],
            "solve_seconds": self.solve_seconds,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Plan:
        """The plan ``to_json`` gave (an unknown gap comes back infinite)."""
        return cls(
            body["status"],
            float(body["objective"]),
            math.inf if body["gap"] is None else float(body["gap"]),
            float(body["training_hours"]),
            int(body["unfilled_slots"]),
            tuple((u["requirement_id"], u["slots"]) for u in body["unfilled"]),
            tuple(PlannedAssignment(**a) for a in body["assignments"]),
            tuple(
                PlannedTraining(
                    **(
                        t
                        | {
                            "finish_by": date.fromisoformat(t["finish_by"]),
                            "for_requirements": tuple(t["for_requirements"]),
                        }
                    )
                )
                for t in body["training"]
            ),
            float(body["solve_seconds"]),
        )


def plan_training(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings = PlanSettings(),  # noqa: B008 - frozen, safe to share
    *,
    earlier: Earlier | None = None,
    deadline: float | None = None,
) -> Plan:
    """Cheapest plan (training hours + weighted unfilled penalty) that closes the gaps.

    Status is "optimal" when the gap target was proven, "time_limit" when the time ran out (the
    best plan found is returned), "empty" when there is no requirement at all. ``earlier``
    is what earlier parts of a plan made in parts gave; with a ``deadline`` (a
    ``time.perf_counter()`` value) the solver stops by then, the model's layout included.
    """
    started = time.perf_counter()
    if not requirements:
        return Plan("empty", 0.0, 0.0, 0.0, 0, (), (), (), 0.0)
    today = settings.today or date.today()
    inst = Instance(engineers, workshops, requirements, settings, today, earlier or Earlier())
    model = build_model(inst)
    if deadline is not None:
        settings = replace(settings, time_limit_s=max(0.05, deadline - time.perf_counter()))
    values, status, gap = _solve(model, settings)
    return _decode(inst, model, values, status, gap, time.perf_counter() - started)


def _solve(model: Model, settings: PlanSettings) -> tuple[np.ndarray, str, float]:
    """Run HiGHS; return column values (all-unfilled if none found), status and relative gap."""
    n_col = len(model.cost)
    start = np.zeros(n_col)
    start[model.nx + model.nt :] = model.upper[model.nx + model.nt :]
    if model.nx == 0:
        return start, "optimal", 0.0
    highs = highspy.Highs()
    for name, value in (
        ("output_flag", False),
        ("time_limit", float(settings.time_limit_s)),
        ("mip_rel_gap", float(settings.mip_gap)),
        ("random_seed", 0),
    ):
        highs.setOptionValue(name, value)
    highs.passModel(_to_lp(model))
    # No MIP start: HiGHS 1.16 mis-maps a start through presolve and returns it as optimal.
    highs.run()
    model_status = highs.getModelStatus()
    info = highs.getInfo()
    if info.primal_solution_status == 0:  # no incumbent at all: keep the all-unfilled plan
        return start, "time_limit", math.inf
    values = np.asarray(highs.getSolution().col_value)
    status = "optimal" if model_status == highspy.HighsModelStatus.kOptimal else "time_limit"
    gap = float(info.mip_gap)
    if abs(info.objective_function_value) < 1e-9 and status == "optimal":
        gap = 0.0
    return values, status, gap


def _to_lp(model: Model) -> highspy.HighsLp:
    """Assemble the COO triplets into a row-wise HiGHS model."""
    rows, n_row = model.rows, model.rows.n
    r = np.concatenate(rows.rows) if rows.rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(rows.cols) if rows.cols else np.zeros(0, dtype=np.int64)
    v = np.concatenate(rows.vals) if rows.vals else np.zeros(0)
    order = np.lexsort((c, r))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(model.cost), n_row
    lp.col_cost_ = model.cost
    lp.col_lower_ = np.zeros(len(model.cost))
    lp.col_upper_ = model.upper.astype(float)
    lp.row_lower_ = np.concatenate(rows.lo) if rows.lo else np.zeros(0)
    lp.row_upper_ = np.concatenate(rows.hi) if rows.hi else np.zeros(0)
    lp.row_lower_ = np.where(np.isinf(lp.row_lower_), -highspy.kHighsInf, lp.row_lower_)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(model.cost), n_row
    lp.a_matrix_.start_ = np.searchsorted(r[order], np.arange(n_row + 1)).astype(np.int32)
    lp.a_matrix_.index_ = c[order].astype(np.int32)
    lp.a_matrix_.value_ = v[order]
    integer, continuous = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
    lp.integrality_ = [integer] * (model.nx + model.nt) + [continuous] * len(model.open_slots)
    return lp


def _decode(
    inst: Instance, model: Model, values: np.ndarray, status: str, gap: float, seconds: float
) -> Plan:
    """Turn column values into assignments and an ordered, deadline-tagged training list."""
    chosen = np.flatnonzero(values[: model.nx] > 0.5)
    done: dict[tuple[int, int], set[int]] = {}
    for i in np.flatnonzero(values[model.nx : model.nx + model.nt] > 0.5):
        done.setdefault((int(model.te[i]), int(model.tk[i])), set()).add(int(model.tw[i]))
    needs: dict[tuple[int, int], list[int]] = {}  # (engineer, workshop) -> requirements
    for i in chosen:
        e, r = int(model.xe[i]), int(model.xr[i])
        if not inst.qualified[e, r]:
            for w in _needed(inst, e, r, done.get((e, int(inst.req_class[r])), set())):
                needs.setdefault((e, w), []).append(r)
    pairs = [
        (int(model.xe[i]), int(model.xr[i]), bool(inst.qualified[model.xe[i], model.xr[i]]))
        for i in chosen
    ]
    assignments = tuple(
        sorted(
            (
                PlannedAssignment(inst.engineers[e].id, inst.requirements[r].id, q)
                for e, r, q in pairs
            ),
            key=lambda a: (a.requirement_id, a.engineer_id),
        )
    )
    training = _ordered_training(inst, needs)
    filled = np.bincount(model.xr[chosen], minlength=len(inst.requirements))
    left = model.open_slots - filled
    unfilled = tuple(
        (inst.requirements[r].id, int(left[r])) for r in np.flatnonzero(left > 0).tolist()
    )
    hours = float(sum(t.hours for t in training))
    objective = hours + float((left * inst.req_weight).sum())
    return Plan(
        status, objective, gap, hours, int(left.sum()), unfilled, assignments, training, seconds
    )


def _needed(inst: Instance, e: int, r: int, done: set[int]) -> set[int]:
    """Workshops (from those done by r's date) that lift engineer e to requirement r's level."""
    skill, level = int(inst.req_skill[r]), int(inst.req_level[r])
    picks = [j for j in inst.justifiers(skill, level).tolist() if j in done]
    if not picks:
        return set()
    out: set[int] = set()
    stack = [min(picks, key=lambda j: inst.rank[j])]
    while stack:
        w = stack.pop()
        if w in out:
            continue
        out.add(w)
        stack += [p for p in inst.prereq_workshops(w) if not inst.passed[e, p]]
        for s, lvl in inst.prereq_levels(w):
            if inst.eff[e, s] < lvl:
                js = [j for j in inst.justifiers(s, lvl, before=w).tolist() if j in done]
                stack += js[:1]
    return out


def _ordered_training(
    inst: Instance, needs: dict[tuple[int, int], list[int]]
) -> tuple[PlannedTraining, ...]:
    """Earliest deadline first per engineer; ties broken by prerequisite order. Due dates are
    staggered: each workshop is due as late as leaves the engineer's learning hours (weekly
    budget, holidays) for the later ones before theirs; the last is due by its project's start.
    A staggered date the hours cannot meet falls back to the deadline the plan was solved for."""
    per_engineer: dict[int, list[tuple[date, int, int, list[int]]]] = {}
    for (e, w), rs in needs.items():
        due = min(inst.requirements[r].start_date for r in rs)
        per_engineer.setdefault(e, []).append((due, int(inst.rank[w]), w, rs))
    out: list[PlannedTraining] = []
    for e in sorted(per_engineer, key=lambda i: inst.engineers[i].id):
        steps = sorted(per_engineer[e])
        hours = [float(inst.workshops[w].hours) for _, _, w, _ in steps]
        dues = _staggered(inst, e, [due for due, _, _, _ in steps], hours)
        for n, ((_, _, w, rs), due) in enumerate(zip(steps, dues, strict=True), start=1):
            req_ids = tuple(sorted(inst.requirements[r].id for r in rs))
            ws = inst.workshops[w]
            out.append(
                PlannedTraining(inst.engineers[e].id, ws.id, n, float(ws.hours), due, req_ids)
            )
    return tuple(out)


def _staggered(inst: Instance, e: int, deadlines: list[date], hours: list[float]) -> list[date]:
    dues = list(deadlines)
    for k in range(len(dues) - 2, -1, -1):
        later = dues[k + 1]
        if later == date.max:
            continue
        left = inst.learning_hours(e, later) - hours[k + 1]  # what must be learnt before
        low, high = 0, max((min(dues[k], later) - inst.today).days, 0)
        while low < high:  # the latest day whose learning hours stay within ``left``
            mid = (low + high + 1) // 2
            if inst.learning_hours(e, inst.today + timedelta(days=mid)) <= left + 1e-9:
                low = mid
            else:
                high = mid - 1
        candidate = inst.today + timedelta(days=low)
        if inst.learning_hours(e, candidate) + 1e-9 >= sum(hours[: k + 1]):
            dues[k] = min(candidate, dues[k])
    return dues


@dataclass(frozen=True)
class HireOption:
    """One more hire holding `levels` (skill id -> level) and what it does to the plan."""

    levels: dict[int, int]
    objective_before: float
    objective_after: float
    slots_filled: int  # slots filled beyond the plan without the hire

    @property
    def saving(self) -> float:
        return self.objective_before - self.objective_after


@dataclass(frozen=True)
class WorkshopImpact:
    """How much unmet demand closes if the engineers able to take a workshop passed it."""

    workshop_id: int
    title: str
    engineers: int  # eligible engineers the re-plan actually uses thanks to the workshop
    slots_closed: int
    share: float  # of the slots the plan leaves unfilled
    names: tuple[str, ...] = ()  # those engineers, by name

    def describe(self) -> str:
        who = and_list(self.names) if self.names else count(self.engineers, "engineer")
        return f"{who} passing {self.title} close {self.share:.0%} of the unmet demand"


def single_hire_whatif(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings = PlanSettings(),  # noqa: B008 - frozen, safe to share
    *,
    levels: dict[int, int] | None = None,
    max_profiles: int = 8,
) -> tuple[HireOption, ...]:
    """Objective change from one unallocated hire, best first.

    With `levels`, that profile only; otherwise candidate profiles drawn from the requirements
    the plan leaves unfilled: one per skill (the highest level asked) and one per project (all
    its unfilled skills). Each profile costs one full re-plan.
    """
    base = plan_training(engineers, workshops, requirements, settings)
    profiles = [levels] if levels is not None else _hire_profiles(base, requirements)
    hire_id = min((e.id for e in engineers), default=0) - 1
    options = []
    for profile in profiles[:max_profiles]:
        hire = EngineerIn(hire_id, "Hypothetical hire", dict(profile))
        plan = plan_training([*engineers, hire], workshops, requirements, settings)
        gained = base.unfilled_slots - plan.unfilled_slots
        options.append(HireOption(dict(profile), base.objective, plan.objective, gained))
    return tuple(sorted(options, key=lambda o: (-o.saving, len(o.levels))))


def _hire_profiles(base: Plan, requirements: Sequence[RequirementIn]) -> list[dict[int, int]]:
    """Skill profiles that could close the unfilled slots, the heaviest penalties first."""
    by_id = {r.id: r for r in requirements}
    gaps = sorted((by_id[r] for r, _ in base.unfilled), key=lambda r: (-r.importance, r.id))
    profiles: list[dict[int, int]] = []
    for req in gaps:
        single = {req.skill_id: max(g.min_level for g in gaps if g.skill_id == req.skill_id)}
        project: dict[int, int] = {}
        for g in gaps:
            if g.project_id == req.project_id:
                project[g.skill_id] = max(project.get(g.skill_id, 0), g.min_level)
        for profile in (single, project):  # the two are equal when the project lacks one skill
            if profile not in profiles:
                profiles.append(profile)
    return profiles


def workshop_impact(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings = PlanSettings(),  # noqa: B008 - frozen, safe to share
) -> tuple[WorkshopImpact, ...]:
    """Per workshop that could lift an unmet slot, the share of unmet slots it would close.

    Eligible engineers are those who meet the workshop's prerequisites today and gain a level
    from it; they are assumed to have passed it (its hours and dates are ignored) and the plan
    is re-solved. Most impactful first; one re-plan per workshop.
    """
    base = plan_training(engineers, workshops, requirements, settings)
    if not base.unfilled_slots:
        return ()
    by_id = {r.id: r for r in requirements}
    unmet = [by_id[r] for r, _ in base.unfilled]
    out = []
    for ws in workshops:
        if not any(ws.verifies.get(r.skill_id, 0) >= r.min_level for r in unmet):
            continue
        lifted = {e.id: _passed(e, ws) for e in engineers if _eligible(e, ws, workshops)}
        if not lifted:
            continue
        plan = plan_training(
            [lifted.get(e.id, e) for e in engineers], workshops, requirements, settings
        )
        closed = max(base.unfilled_slots - plan.unfilled_slots, 0)
        used = {
            a.engineer_id for a in plan.assignments if _thanks_to(a, ws, lifted, engineers, by_id)
        }
        share = closed / base.unfilled_slots
        names = tuple(sorted(e.name for e in engineers if e.id in used))
        out.append(WorkshopImpact(ws.id, ws.title, len(used), closed, share, names))
    return tuple(sorted(out, key=lambda i: (-i.slots_closed, i.engineers, i.workshop_id)))


def _eligible(e: EngineerIn, ws: WorkshopIn, workshops: Sequence[WorkshopIn]) -> bool:
    if ws.id in e.passed_workshops or not ws.prereq_workshops <= e.passed_workshops:
        return False
    levels = _levels(e, workshops)
    gains = any(levels.get(s, 0) < lvl for s, lvl in ws.verifies.items())
    return gains and all(levels.get(s, 0) >= lvl for s, lvl in ws.prereq_levels.items())


def _levels(e: EngineerIn, workshops: Sequence[WorkshopIn]) -> dict[int, int]:
    levels = dict(e.levels)
    for w in workshops:
        if w.id in e.passed_workshops:
            for s, lvl in w.verifies.items():
                levels[s] = max(levels.get(s, 0), lvl)
    return levels


def _passed(e: EngineerIn, ws: WorkshopIn) -> EngineerIn:
    levels = dict(e.levels)
    for s, lvl in ws.verifies.items():
        levels[s] = max(levels.get(s, 0), lvl)
    return replace(e, levels=levels, passed_workshops=e.passed_workshops | {ws.id})


def _thanks_to(
    a: PlannedAssignment,
    ws: WorkshopIn,
    lifted: dict[int, EngineerIn],
    engineers: Sequence[EngineerIn],
    by_id: dict[int, RequirementIn],
) -> bool:
    """The assignment is held by a lifted engineer who lacked the level before the workshop."""
    if a.engineer_id not in lifted:
        return False
    req = by_id[a.requirement_id]
    before = next(e for e in engineers if e.id == a.engineer_id)
    held = before.levels.get(req.skill_id, 0)
    return held < req.min_level <= ws.verifies.get(req.skill_id, 0)
