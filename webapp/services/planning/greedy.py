"""Greedy staffing: slots by importance then date, each to the cheapest trainee.

The benchmarks' baseline, and the fallback of a plan in parts whose solver ran out of time
before it found any plan for a part (see decompose)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from webapp.services.planning import optimiser_model as model
from webapp.services.planning.optimiser import Plan, PlannedAssignment, PlannedTraining
from webapp.services.planning.optimiser_model import Earlier, Instance


@dataclass
class _State:
    """What the greedy has promised an engineer so far."""

    load: float = 0.0
    planned: dict[int, tuple[date, int]] = field(default_factory=dict)  # workshop -> (due, req)


def greedy_plan(
    engineers: Sequence[model.EngineerIn],
    workshops: Sequence[model.WorkshopIn],
    requirements: Sequence[model.RequirementIn],
    settings: model.PlanSettings = model.PlanSettings(),  # noqa: B008 - frozen, safe to share
    earlier: Earlier | None = None,
) -> Plan:
    """Fill slots one by one; leave a slot open when training would cost more than its penalty.
    ``earlier``: what earlier parts of a plan made in parts gave."""
    today = settings.today or date.today()
    inst = Instance(engineers, workshops, requirements, settings, today, earlier or Earlier())
    fixed, open_slots = inst.fixed_staff()
    states = [_State(load=float(inst.role_cost[e, fixed[e]].sum())) for e in range(len(engineers))]
    taken = fixed.copy()
    order = sorted(
        range(len(requirements)),
        key=lambda r: (-requirements[r].importance, requirements[r].start_date, requirements[r].id),
    )
    for r in order:
        for _ in range(int(open_slots[r])):
            best = _best_engineer(inst, states, taken, r)
            if best is None:
                break
            e, new = best
            _commit(inst, states[e], taken, e, r, new)
            open_slots[r] -= 1
    return _to_plan(inst, states, fixed, taken, open_slots)


def _best_engineer(
    inst: Instance, states: list[_State], taken: np.ndarray, r: int
) -> tuple[int, set[int]] | None:
    """Cheapest engineer for one slot of r, with the new workshops they would take."""
    bound = inst.training_bound[:, r]
    limit = inst.req_weight[r]
    best: tuple[float, int, set[int]] | None = None
    # Engineers with planned training may be cheaper than their bound: always look at them.
    busy = [e for e, s in enumerate(states) if s.planned]
    for e in [*busy, *np.argsort(bound, kind="stable").tolist()]:
        if best is not None and bound[e] >= best[0] and not states[e].planned:
            break
        if not _fits_allocation(inst, states[e], taken, e, r):
            continue
        new = _chain(inst, states[e], e, int(inst.req_skill[r]), int(inst.req_level[r]), r)
        if new is None or not _schedulable(inst, states[e], e, new, r):
            continue
        cost = _hours(inst, new)
        if cost < limit and (best is None or (cost, e) < (best[0], best[1])):
            best = (cost, e, new)
    return None if best is None else (best[1], best[2])


def _hours(inst: Instance, workshops: set[int]) -> float:
    return float(inst.hours[list(workshops)].sum()) if workshops else 0.0


def _fits_allocation(inst: Instance, state: _State, taken: np.ndarray, e: int, r: int) -> bool:
    """The role's share fits in what e has free, and e holds no other role on its project."""
    if taken[e, inst.req_project == inst.req_project[r]].any():
        return False
    return state.load + inst.role_cost[e, r] <= inst.cap[e] + 1e-9


def _held(inst: Instance, state: _State, e: int, skill: int, due: date) -> int:
    level = int(inst.eff[e, skill])
    for w, (when, _) in state.planned.items():
        if when <= due:
            level = max(level, int(inst.verifies[w, skill]))
    return level


def _chain(
    inst: Instance, state: _State, e: int, skill: int, level: int, r: int, before: int | None = None
) -> set[int] | None:
    """New workshops lifting e to `level` (cheapest justifier, recursively); None if impossible."""
    due = inst.requirements[r].start_date
    if _held(inst, state, e, skill, due) >= level:
        return set()
    best: set[int] | None = None
    for j in inst.justifiers(skill, level, before).tolist():
        if inst.passed[e, j] or j in state.planned:
            continue
        need = _closure(inst, state, e, j, r)
        if need is not None and (best is None or _hours(inst, need) < _hours(inst, best)):
            best = need
    return best


def _closure(inst: Instance, state: _State, e: int, w: int, r: int) -> set[int] | None:
    out = {w}
    due = inst.requirements[r].start_date
    for p in inst.prereq_workshops(w):
        if inst.passed[e, p] or (p in state.planned and state.planned[p][0] <= due):
            continue
        if p in state.planned or inst.rank[p] >= inst.rank[w]:
            return None
        sub = _closure(inst, state, e, p, r)
        if sub is None:
            return None
        out |= sub
    for s, lvl in inst.prereq_levels(w):
        sub = _chain(inst, state, e, s, lvl, r, before=w)
        if sub is None:
            return None
        out |= sub
    return out


def _schedulable(inst: Instance, state: _State, e: int, new: set[int], r: int) -> bool:
    """Earliest-deadline-first: hours due by each date fit in the hours available by then."""
    due = inst.requirements[r].start_date
    items = [(d, float(inst.hours[w])) for w, (d, _) in state.planned.items()]
    items += list(inst.earlier.spent.get(inst.engineers[e].id, ()))  # planned by an earlier part
    items = sorted(items + [(due, inst.hours[w]) for w in new])
    total = 0.0
    for when, hours in items:
        total += hours
        if total > inst.learning_hours(e, when) + 1e-9:
            return False
    return True


def _commit(
    inst: Instance, state: _State, taken: np.ndarray, e: int, r: int, new: set[int]
) -> None:
    taken[e, r] = True
    state.load += inst.role_cost[e, r]
    for w in new:
        state.planned[w] = (inst.requirements[r].start_date, r)


def _to_plan(
    inst: Instance,
    states: list[_State],
    fixed: np.ndarray,
    taken: np.ndarray,
    open_slots: np.ndarray,
) -> Plan:
    assignments = tuple(
        PlannedAssignment(inst.engineers[e].id, inst.requirements[r].id, bool(inst.qualified[e, r]))
        for e, r in zip(*np.nonzero(taken), strict=True)
    )
    training = []
    for e, state in enumerate(states):
        items = sorted(state.planned.items(), key=lambda kv: (kv[1][0], inst.rank[kv[0]]))
        for n, (w, (due, r)) in enumerate(items, start=1):
            ws = inst.workshops[w]
            req_id = inst.requirements[r].id
            training.append(
                PlannedTraining(inst.engineers[e].id, ws.id, n, float(ws.hours), due, (req_id,))
            )
    hours = float(sum(t.hours for t in training))
    objective = hours + float((open_slots * inst.req_weight).sum())
    unfilled = tuple(
        (inst.requirements[r].id, int(open_slots[r]))
        for r in np.flatnonzero(open_slots > 0).tolist()
    )
    slots = int(open_slots.sum())
    return Plan(
        "greedy", objective, float("nan"), hours, slots, unfilled, assignments, tuple(training), 0.0
    )
