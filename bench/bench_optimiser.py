"""Benchmark the organisation-wide staffing plan against the greedy baseline on growing orgs.

Run: .venv/bin/python -m bench.bench_optimiser   (prints a markdown table; a few minutes)

Each size is a generated organisation (bench/orggen.py: teams of 25, a tenth as many open
slots as engineers) planned three ways in the same run: the greedy baseline (qualified people
first, then the cheapest trainee), each team's own plan combined (``staffing plan --per-team``),
and the organisation-wide plan (``staffing plan``, 60 s limit). Times are wall-clock seconds.
"""

from __future__ import annotations

import time
from dataclasses import replace

from bench.orggen import generate_org
from webapp.services.planning.decompose import plan_in_parts
from webapp.services.planning.greedy import greedy_plan
from webapp.services.planning.optimiser import PlanSettings, plan_training

SIZES = [500, 5_000, 20_000]
TIME_LIMIT_S = 60.0


def bench_size(n_engineers: int, seed: int = 1) -> list[str]:
    """Markdown rows for one size: greedy, the teams' own plans, the organisation's plan."""
    org = generate_org(n_engineers, n_engineers // 10, seed=seed)
    settings = PlanSettings(today=org.today, time_limit_s=TIME_LIMIT_S)
    started = time.perf_counter()
    base = greedy_plan(org.engineers, org.workshops, org.requirements, settings)
    greedy_s = time.perf_counter() - started

    started = time.perf_counter()
    by_id = {e.id: e for e in org.engineers}
    reqs = {r.id: r for r in org.requirements}
    teams = [
        plan_training(
            [by_id[e] for e in sorted(part.engineer_ids)],
            org.workshops,
            [reqs[r] for r in sorted(part.requirement_ids)],
            replace(settings, time_limit_s=TIME_LIMIT_S / len(org.parts)),
        )
        for part in org.parts
        if part.requirement_ids
    ]
    teams_s = time.perf_counter() - started
    teams_objective = sum(p.objective for p in teams)

    started = time.perf_counter()
    plan = plan_in_parts(org.engineers, org.workshops, org.requirements, settings, org.parts)
    plan_s = time.perf_counter() - started
    slots = sum(r.headcount for r in org.requirements)

    def row(name: str, seconds: float, objective: float, hours: float, unfilled: int, gap: str):
        return (
            f"| {n_engineers:,} | {slots:,} | {name} | {seconds:.1f} | {gap} | {objective:,.0f} "
            f"| {objective / base.objective:.2f} | {hours:,.0f} | {unfilled} |"
        )

    return [
        row("greedy", greedy_s, base.objective, base.training_hours, base.unfilled_slots, "–"),
        row(
            "teams' own plans",
            teams_s,
            teams_objective,
            sum(p.training_hours for p in teams),
            sum(p.unfilled_slots for p in teams),
            "–",
        ),
        row(
            f"organisation ({plan.status})",
            plan_s,
            plan.objective,
            plan.training_hours,
            plan.unfilled_slots,
            f"{plan.gap:.1%}",
        ),
    ]


def main() -> None:
    print(
        "| engineers | slots | plan | seconds | proven gap | objective | × greedy "
        "| training h | unfilled slots |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in SIZES:
        for line in bench_size(n):
            print(line, flush=True)


if __name__ == "__main__":
    main()
