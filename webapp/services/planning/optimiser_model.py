"""Inputs and the indexed instance of the staffing-plan optimiser: catalogue, pruning, bounds."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class EngineerIn:
    """An engineer as the database sees them; `levels` maps skill id to the current level.

    `allocated_pct` is the share of their time already assigned across open projects (at least
    the sum of `allocations`, which gives it project by project); `availability_pct` is the share
    they have at all. `hours_per_week` is their learning budget (None: the plan's default) and
    `unavailable` their holidays, inclusive date ranges that give no learning hours.
    """

    id: int
    name: str
    levels: Mapping[int, int]
    passed_workshops: frozenset[int] = frozenset()
    allocated_pct: int = 0
    assigned_projects: frozenset[int] = frozenset()
    allocations: Mapping[int, int] = field(default_factory=dict)
    availability_pct: int = 100
    hours_per_week: float | None = None
    unavailable: tuple[tuple[date, date], ...] = ()


@dataclass(frozen=True)
class WorkshopIn:
    """A workshop; passing it proves each skill in `verifies` at the given level."""

    id: int
    title: str
    hours: float
    verifies: Mapping[int, int]
    prereq_workshops: frozenset[int] = frozenset()
    prereq_levels: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RequirementIn:
    """A project's need for `headcount` people holding `skill_id` at `min_level` or more."""

    id: int
    project_id: int
    project_name: str
    skill_id: int
    skill_name: str
    min_level: int
    headcount: int
    importance: int
    allocation_pct: int = 100
    start_date: date = date.max


@dataclass(frozen=True)
class PlanSettings:
    """Knobs of the optimiser; `today=None` means the current date."""

    unfilled_penalty_hours: float = 40.0
    hours_per_week: float = 4.0
    time_limit_s: float = 30.0
    mip_gap: float = 0.01
    today: date | None = None


def topological_order(workshops: Sequence[WorkshopIn]) -> list[int]:
    """Workshop positions with every possible prerequisite first; cycles are appended by id.

    A workshop may only lean on workshops earlier in this order, which keeps every plan orderable
    even if the catalogue holds a cycle of level prerequisites (then some options are lost).
    """
    index = {w.id: i for i, w in enumerate(workshops)}
    preds: list[set[int]] = [set() for _ in workshops]
    for i, w in enumerate(workshops):
        preds[i].update(index[p] for p in w.prereq_workshops if p in index)
        for skill, level in w.prereq_levels.items():
            preds[i].update(
                j for j, v in enumerate(workshops) if j != i and v.verifies.get(skill, 0) >= level
            )
    succs: list[list[int]] = [[] for _ in workshops]
    for i, ps in enumerate(preds):
        for p in ps:
            succs[p].append(i)
    missing = [len(ps) for ps in preds]
    ready = [(workshops[i].id, i) for i, m in enumerate(missing) if m == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(i)
        for s in succs[i]:
            missing[s] -= 1
            if missing[s] == 0:
                heapq.heappush(ready, (workshops[s].id, s))
    seen = set(order)
    order += sorted(
        (i for i in range(len(workshops)) if i not in seen), key=lambda i: workshops[i].id
    )
    return order


@dataclass(frozen=True)
class Earlier:
    """What earlier parts of a plan made in parts gave: the (engineer id, project id) roles held
    there, and engineer id -> (due date, hours) of the training planned there, which the
    learning hours must still leave room for."""

    held: frozenset[tuple[int, int]] = frozenset()
    spent: Mapping[int, Sequence[tuple[date, float]]] = field(default_factory=dict)


@dataclass
class Instance:
    """Everything the MILP needs, indexed: engineers E, workshops W, skills S, requirements R."""

    engineers: Sequence[EngineerIn]
    workshops: Sequence[WorkshopIn]
    requirements: Sequence[RequirementIn]
    settings: PlanSettings
    today: date
    earlier: Earlier = field(default_factory=lambda: Earlier())

    def __post_init__(self) -> None:
        self.skill_col = _skill_columns(self.engineers, self.workshops, self.requirements)
        self.ws_col = {w.id: i for i, w in enumerate(self.workshops)}
        self.order = topological_order(self.workshops)
        self.rank = np.empty(len(self.workshops), dtype=np.int64)
        self.rank[self.order] = np.arange(len(self.order))
        self.hours = np.array([float(w.hours) for w in self.workshops], dtype=float)
        self.verifies = self._verifies()
        self.passed, self.eff = self._engineer_matrices()
        self.dates = sorted({r.start_date for r in self.requirements})
        self.avail = self._learning_hours()  # E x K training hours before each date class
        self.req_class = np.array(
            [self.dates.index(r.start_date) for r in self.requirements], dtype=np.int64
        )
        self.req_skill = np.array([self.skill_col[r.skill_id] for r in self.requirements])
        self.req_level = np.array([r.min_level for r in self.requirements], dtype=np.int64)
        self.req_alloc = np.array([float(r.allocation_pct) for r in self.requirements])
        self.req_weight = np.array(
            [self.settings.unfilled_penalty_hours * r.importance for r in self.requirements]
        )
        projects = {p: i for i, p in enumerate(sorted({r.project_id for r in self.requirements}))}
        self.req_project = np.array(
            [projects[r.project_id] for r in self.requirements], dtype=np.int64
        ).reshape(len(self.requirements))
        self._allocation_matrices()

    def _allocation_matrices(self) -> None:
        """Who is on which project at what share, what is free, and what each role would cost.

        A role on a project the engineer is already on raises that assignment to the role's share
        (it costs the difference); a role elsewhere costs its whole share. `cap` is the share
        left for new roles: availability minus every existing assignment, never below zero.
        """
        n_e, n_r = len(self.engineers), len(self.requirements)
        own = np.zeros((n_e, n_r))
        on = np.zeros((n_e, n_r), dtype=bool)
        by_project: dict[int, list[int]] = {}
        for r, req in enumerate(self.requirements):
            by_project.setdefault(req.project_id, []).append(r)
        for i, e in enumerate(self.engineers):
            for project in e.assigned_projects | e.allocations.keys():
                rs = by_project.get(project, [])
                on[i, rs] = True
                own[i, rs] = e.allocations.get(project, 0)
        self.on_project = on
        load = np.array(
            [max(e.allocated_pct, sum(e.allocations.values())) for e in self.engineers], float
        )
        self.availability = np.array([float(e.availability_pct) for e in self.engineers])
        self.cap = np.maximum(self.availability - load, 0.0).reshape(n_e)
        self.role_cost = np.maximum(self.req_alloc[None, :] - own, 0.0).reshape(n_e, n_r)
        held = self.earlier.held
        if held:
            for i, e in enumerate(self.engineers):
                rs = [r for p in by_project if (e.id, p) in held for r in by_project[p]]
                self.role_cost[i, rs] = np.inf  # one role per project: the earlier part gave it

    def _learning_hours(self) -> np.ndarray:
        """E x K: each engineer's learning hours from today until each date class, their weekly
        budget times the weeks left, less the days of their holidays in between."""
        days = np.array([max((d - self.today).days, 0) for d in self.dates], dtype=float)
        per_week = np.array(
            [
                self.settings.hours_per_week if e.hours_per_week is None else e.hours_per_week
                for e in self.engineers
            ]
        )
        off = np.zeros((len(self.engineers), len(self.dates)))
        for i, e in enumerate(self.engineers):
            if e.unavailable:
                off[i] = [days_off(e.unavailable, self.today, until) for until in self.dates]
        hours = (np.maximum(days[None, :] - off, 0.0) / 7.0) * per_week[:, None]
        hours = hours.reshape(len(self.engineers), len(self.dates))
        for i, e in enumerate(self.engineers):
            if self.earlier.spent.get(e.id):
                hours[i] = self._left_after(i, self.earlier.spent[e.id], hours[i])
        return hours

    def _left_after(
        self, e: int, spent: Sequence[tuple[date, float]], hours: np.ndarray
    ) -> np.ndarray:
        """Hours left by each date class once the training already planned is done in time.

        Training is sequential, earliest deadline first: what is newly due by class k must fit
        beside the earlier training due by every deadline from k's date up to the next class's.
        """
        ends = [*self.dates[1:], date.max]
        left = hours.copy()
        for k, (start, end) in enumerate(zip(self.dates, ends, strict=True)):
            checks = [start, *sorted({d for d, _ in spent if start < d < end})]
            left[k] = min(
                (hours[k] if d == start else self.learning_hours(e, d))
                - sum(h for due, h in spent if due <= d)
                for d in checks
            )
        return np.maximum(left, 0.0)

    def learning_hours(self, e: int, until: date) -> float:
        """Engineer position e's learning hours from today until `until` (any date)."""
        eng = self.engineers[e]
        per_week = (
            self.settings.hours_per_week if eng.hours_per_week is None else eng.hours_per_week
        )
        days = max((until - self.today).days, 0) - days_off(eng.unavailable, self.today, until)
        return max(days, 0) / 7.0 * per_week

    def _verifies(self) -> np.ndarray:
        out = np.zeros((len(self.workshops), len(self.skill_col)), dtype=np.int64)
        for i, w in enumerate(self.workshops):
            for skill, level in w.verifies.items():
                out[i, self.skill_col[skill]] = level
        return out

    def _engineer_matrices(self) -> tuple[np.ndarray, np.ndarray]:
        n_e, n_w = len(self.engineers), len(self.workshops)
        passed = np.zeros((n_e, n_w), dtype=bool)
        eff = np.zeros((n_e, len(self.skill_col)), dtype=np.int64)
        for i, e in enumerate(self.engineers):
            for skill, level in e.levels.items():
                eff[i, self.skill_col[skill]] = level
            cols = [self.ws_col[w] for w in e.passed_workshops if w in self.ws_col]
            passed[i, cols] = True
        # A passed workshop proves its levels even when the estimate lags behind.
        if n_w and n_e:
            proven = np.where(passed[:, :, None], self.verifies[None, :, :], 0).max(axis=1)
            eff = np.maximum(eff, proven)
        return passed, eff

    def justifiers(self, skill: int, level: int, before: int | None = None) -> np.ndarray:
        """Workshop positions verifying skill column `skill` at `level` or more (earlier ones)."""
        ok = self.verifies[:, skill] >= level
        if before is not None:
            ok &= self.rank < self.rank[before]
        return np.flatnonzero(ok)

    def prereq_workshops(self, w: int) -> list[int]:
        return [self.ws_col[p] for p in self.workshops[w].prereq_workshops if p in self.ws_col]

    def prereq_levels(self, w: int) -> list[tuple[int, int]]:
        return [(self.skill_col[s], lvl) for s, lvl in self.workshops[w].prereq_levels.items()]

    @cached_property
    def lower_bounds(self) -> np.ndarray:
        """E x W lower bound on the hours an engineer needs to pass a workshop, prereqs included.

        Infinite when no chain of workshops reaches it; infinite too for passed workshops, which
        are never retaken. The bound takes the longest single prerequisite chain, so it never
        exceeds the true cost and pruning on it loses no plan.
        """
        n_e = len(self.engineers)
        lb = np.full((n_e, len(self.workshops)), np.inf)
        for w in self.order:
            need = np.zeros(n_e)
            for p in self.prereq_workshops(w):
                via = lb[:, p] if self.rank[p] < self.rank[w] else np.inf
                need = np.maximum(need, np.where(self.passed[:, p], 0.0, via))
            for s, lvl in self.prereq_levels(w):
                js = self.justifiers(s, lvl, before=w)
                best = lb[:, js].min(axis=1) if len(js) else np.full(n_e, np.inf)
                need = np.maximum(need, np.where(self.eff[:, s] >= lvl, 0.0, best))
            lb[:, w] = np.where(self.passed[:, w], np.inf, self.hours[w] + need)
        return lb

    def fixed_staff(self) -> tuple[np.ndarray, np.ndarray]:
        """A head start for heuristics: (E x R mask, slots left open) keeping qualified people
        on their own projects, each in one role per project and within their free share.

        The optimiser does not use it (the MILP places these people itself); the greedy baseline
        does.
        """
        qual = self.qualified & self.on_project
        fixed = np.zeros_like(qual)
        open_slots = np.array([max(r.headcount, 0) for r in self.requirements], dtype=np.int64)
        free = self.cap.copy()
        held: set[tuple[int, int]] = set()
        for r in range(len(self.requirements)):
            for e in np.flatnonzero(qual[:, r]).tolist():
                project = int(self.req_project[r])
                if open_slots[r] == 0:
                    break
                if (e, project) in held or self.role_cost[e, r] > free[e] + 1e-9:
                    continue
                fixed[e, r] = True
                held.add((e, project))
                free[e] -= self.role_cost[e, r]
                open_slots[r] -= 1
        return fixed, open_slots

    @cached_property
    def alloc_ok(self) -> np.ndarray:
        """E x R: the role's cost in share of time fits in what the engineer has free."""
        return self.role_cost <= self.cap[:, None] + 1e-9

    @cached_property
    def in_time(self) -> np.ndarray:
        """E x R: the engineer could be trained to the requirement's level before it starts."""
        return self.training_bound <= self.avail[:, self.req_class] + 1e-9

    @cached_property
    def qualified(self) -> np.ndarray:
        """E x R: the engineer holds the requirement's level today."""
        return self.eff[:, self.req_skill] >= self.req_level[None, :]

    @cached_property
    def training_bound(self) -> np.ndarray:
        """E x R lower bound on the hours to reach each requirement's level (0 if held)."""
        lb = self.lower_bounds
        out = np.zeros(self.qualified.shape)
        cache: dict[tuple[int, int], np.ndarray] = {}
        for r in range(len(self.requirements)):
            key = (int(self.req_skill[r]), int(self.req_level[r]))
            if key not in cache:
                js = self.justifiers(*key)
                cache[key] = lb[:, js].min(axis=1) if len(js) else np.full(lb.shape[0], np.inf)
            out[:, r] = np.where(self.qualified[:, r], 0.0, cache[key])
        return out


def _skill_columns(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
) -> dict[int, int]:
    skills: set[int] = {r.skill_id for r in requirements}
    for w in workshops:
        skills.update(w.verifies)
        skills.update(w.prereq_levels)
    for e in engineers:
        skills.update(e.levels)
    return {s: i for i, s in enumerate(sorted(skills))}


def days_off(unavailable: Sequence[tuple[date, date]], start: date, until: date) -> int:
    """Days from `start` (included) to `until` (excluded) inside the inclusive ranges, counted
    once where ranges overlap."""
    last = until - timedelta(days=1)
    spans = sorted((max(a, start), min(b, last)) for a, b in unavailable)
    total, reach = 0, start - timedelta(days=1)
    for a, b in spans:
        a = max(a, reach + timedelta(days=1))
        if b >= a:
            total += (b - a).days + 1
            reach = b
    return total
