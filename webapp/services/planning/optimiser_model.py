"""Inputs and the indexed instance of the staffing-plan optimiser: catalogue, pruning, bounds."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class EngineerIn:
    """An engineer as the database sees them; `levels` maps skill id to the current level."""

    id: int
    name: str
    levels: Mapping[int, int]
    passed_workshops: frozenset[int] = frozenset()
    allocated_pct: int = 0
    assigned_projects: frozenset[int] = frozenset()


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


@dataclass
class Instance:
    """Everything the MILP needs, indexed: engineers E, workshops W, skills S, requirements R."""

    engineers: Sequence[EngineerIn]
    workshops: Sequence[WorkshopIn]
    requirements: Sequence[RequirementIn]
    settings: PlanSettings
    today: date

    def __post_init__(self) -> None:
        self.skill_col = _skill_columns(self.engineers, self.workshops, self.requirements)
        self.ws_col = {w.id: i for i, w in enumerate(self.workshops)}
        self.order = topological_order(self.workshops)
        self.rank = np.empty(len(self.workshops), dtype=np.int64)
        self.rank[self.order] = np.arange(len(self.order))
        self.hours = np.array([float(w.hours) for w in self.workshops], dtype=float)
        self.verifies = self._verifies()
        self.passed, self.eff = self._engineer_matrices()
        self.cap = np.array([100.0 - e.allocated_pct for e in self.engineers])
        self.dates = sorted({r.start_date for r in self.requirements})
        weeks = np.array([max((d - self.today).days, 0) / 7.0 for d in self.dates])
        self.avail = weeks * self.settings.hours_per_week  # training hours before each class
        self.req_class = np.array(
            [self.dates.index(r.start_date) for r in self.requirements], dtype=np.int64
        )
        self.req_skill = np.array([self.skill_col[r.skill_id] for r in self.requirements])
        self.req_level = np.array([r.min_level for r in self.requirements], dtype=np.int64)
        self.req_alloc = np.array([float(r.allocation_pct) for r in self.requirements])
        self.req_weight = np.array(
            [self.settings.unfilled_penalty_hours * r.importance for r in self.requirements]
        )
        self.on_project = np.array(
            [
                [r.project_id in e.assigned_projects for r in self.requirements]
                for e in self.engineers
            ],
            dtype=bool,
        ).reshape(len(self.engineers), len(self.requirements))

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
        """Engineers already on the project and qualified fill slots for free: (E x R mask, open).

        They are fixed before the model is built: keeping them costs nothing and uses no new
        allocation, so no optimal plan would move them.
        """
        qual = self.qualified
        fixed = np.zeros_like(qual)
        open_slots = np.zeros(len(self.requirements), dtype=np.int64)
        for r, req in enumerate(self.requirements):
            staff = np.flatnonzero(self.on_project[:, r] & qual[:, r])[: max(req.headcount, 0)]
            fixed[staff, r] = True
            open_slots[r] = max(req.headcount, 0) - len(staff)
        return fixed, open_slots

    @cached_property
    def alloc_ok(self) -> np.ndarray:
        """E x R: the engineer has the share of time the requirement asks (own projects: always)."""
        return self.on_project | (self.req_alloc[None, :] <= self.cap[:, None] + 1e-9)

    @cached_property
    def in_time(self) -> np.ndarray:
        """E x R: the engineer could be trained to the requirement's level before it starts."""
        return self.training_bound <= self.avail[self.req_class][None, :] + 1e-9

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
