"""The demo organisation's plans under true capacity, against an independent computation.

In the demo every requirement asks 100 % of a person's time and the people already on a project
are there at 50 % and nowhere else, so a person can hold one role at most: on their own project
(raised to 100 %) or, when on none, anywhere. The best plan is then a minimum-cost matching of
people to slots, each pair costing the cheapest set of workshops that gets the person there in
time (found by trying every subset of the catalog) less the penalty the slot saves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import combinations

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from tests.services.planning.capacity_checker import budget, check_plan, held_levels
from webapp.db import db as _db
from webapp.models import Team
from webapp.services.planning import plan
from webapp.services.planning.inputs import PlanInputs
from webapp.services.planning.optimiser import (
    EngineerIn,
    PlanSettings,
    WorkshopIn,
)


@pytest.fixture()
def demo_settings(runner: FlaskCliRunner) -> PlanSettings:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return PlanSettings(today=date.today(), time_limit_s=30.0, mip_gap=0.0)


def training_costs(person: EngineerIn, workshops: Sequence[WorkshopIn]) -> list[tuple[float, dict]]:
    """(hours, levels reached) for every set of new workshops the person can take in some
    order (prerequisites first), by brute force over the catalog."""
    new = [w for w in workshops if w.id not in person.passed_workshops]
    out = []
    for size in range(len(new) + 1):
        for subset in combinations(new, size):
            if _orderable(person, workshops, list(subset)):
                levels = held_levels(person, workshops, subset)
                out.append((sum(w.hours for w in subset), levels))
    return out


def _orderable(person: EngineerIn, workshops: Sequence[WorkshopIn], todo: list[WorkshopIn]) -> bool:
    done: list[WorkshopIn] = []
    while todo:
        passed = person.passed_workshops | {w.id for w in done}
        levels = held_levels(person, workshops, done)
        ready = [
            w
            for w in todo
            if w.prereq_workshops <= passed
            and all(levels.get(s, 0) >= lvl for s, lvl in w.prereq_levels.items())
        ]
        if not ready:
            return False
        done += ready
        todo = [w for w in todo if w not in ready]
    return True


def independent_objective(inputs: PlanInputs, settings: PlanSettings) -> tuple[float, int]:
    """(objective, unfilled slots) of the best plan, by a min-cost matching of people to slots."""
    today = settings.today or date.today()
    reqs = inputs.requirements
    assert all(r.allocation_pct == 100 for r in reqs)  # so one role per person at most
    penalty = [settings.unfilled_penalty_hours * r.importance for r in reqs]
    edges: dict[tuple[int, int], float] = {}
    for p, person in enumerate(inputs.engineers):
        options = training_costs(person, inputs.workshops)
        for r, req in enumerate(reqs):
            own = person.allocations.get(req.project_id, 0)
            others = sum(person.allocations.values()) - own
            if others + max(own, req.allocation_pct) > person.availability_pct:
                continue
            time = budget(person, settings, today, req.start_date)
            costs = [
                h for h, lv in options if lv.get(req.skill_id, 0) >= req.min_level and h <= time
            ]
            if costs and min(costs) < penalty[r]:
                edges[p, r] = min(costs) - penalty[r]
    saved = _min_cost_matching(len(inputs.engineers), [r.headcount for r in reqs], edges)
    slots = sum(r.headcount for r in reqs)
    full = sum(n * w for n, w in zip([r.headcount for r in reqs], penalty, strict=True))
    return full + saved[0], slots - saved[1]


def _min_cost_matching(
    n_people: int, heads: list[int], edges: dict[tuple[int, int], float]
) -> tuple[float, int]:
    """Successive shortest paths (Bellman-Ford) on source -> person -> slot group -> sink while
    a path still lowers the cost: (total cost, pairs matched)."""
    source, sink = n_people + len(heads), n_people + len(heads) + 1
    graph: list[list[list]] = [[] for _ in range(sink + 1)]

    def arc(a: int, b: int, cap: int, cost: float) -> None:
        graph[a].append([b, cap, cost, len(graph[b])])
        graph[b].append([a, 0, -cost, len(graph[a]) - 1])

    for p in range(n_people):
        arc(source, p, 1, 0.0)
    for (p, r), cost in edges.items():
        arc(p, n_people + r, 1, cost)
    for r, h in enumerate(heads):
        arc(n_people + r, sink, h, 0.0)
    total, matched = 0.0, 0
    while True:
        dist, back = _shortest_paths(graph, source)
        if dist[sink] >= -1e-9:
            return total, matched
        node = sink
        while node != source:
            a, i = back[node]  # type: ignore[misc]
            graph[a][i][1] -= 1
            graph[node][graph[a][i][3]][1] += 1
            node = a
        total += dist[sink]
        matched += 1


def _shortest_paths(
    graph: list[list[list]], source: int
) -> tuple[list[float], list[tuple[int, int] | None]]:
    """Bellman-Ford over the arcs with capacity left: distances and the arc into each node."""
    dist = [float("inf")] * len(graph)
    back: list[tuple[int, int] | None] = [None] * len(graph)
    dist[source] = 0.0
    for _ in range(len(graph)):
        for a, arcs in enumerate(graph):
            for i, (b, cap, cost, _) in enumerate(arcs):
                if cap > 0 and dist[a] + cost < dist[b] - 1e-9:
                    dist[b], back[b] = dist[a] + cost, (a, i)
    return dist, back


def _team(name: str) -> int:
    team = _db.session.scalar(select(Team).where(Team.name == name))
    assert team is not None
    return int(team.id)


def test_applied_ml_plan_leaves_open_the_slots_capacity_forces(demo_settings: PlanSettings) -> None:
    # Five people, seven 100 % slots: one role each, so at least two slots stay open (the old
    # plan said "0 of 7 slots unfilled", with three people in two roles and one in three).
    inputs = plan.load_inputs(_db.session, [_team("Applied ML")])
    report = plan.solve(inputs, demo_settings, what_ifs=False)
    assert (len(inputs.engineers), sum(r.headcount for r in inputs.requirements)) == (5, 7)
    assert report.plan.unfilled_slots == 2
    assert len({a.engineer_id for a in report.plan.assignments}) == 5
    args = (inputs.engineers, inputs.workshops, inputs.requirements, demo_settings)
    assert check_plan(*args, report.plan) == []
    assert independent_objective(inputs, demo_settings) == (
        report.plan.objective,
        report.plan.unfilled_slots,
    )


def test_the_whole_demo_plan_matches_the_independent_optimum(demo_settings: PlanSettings) -> None:
    inputs = plan.load_inputs(_db.session, None)
    report = plan.solve(inputs, demo_settings, what_ifs=False)
    args = (inputs.engineers, inputs.workshops, inputs.requirements, demo_settings)
    assert check_plan(*args, report.plan) == []
    expected = independent_objective(inputs, demo_settings)
    assert (report.plan.objective, report.plan.unfilled_slots) == expected
    assert expected[0] == 193  # the figure issue 12 found by its own model (184 before)
