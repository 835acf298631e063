"""Benchmark the staffing optimiser against the greedy baseline on growing generated orgs.

Run: .venv/bin/python -m bench.bench_optimiser   (prints a markdown table)
"""

from __future__ import annotations

import statistics
import time

from bench.greedy import greedy_plan
from bench.orggen import generate_org
from webapp.services.planning.optimiser import PlanSettings, plan_training

SIZES = [(100, 10), (250, 25), (500, 50), (750, 75), (1000, 100)]


def bench_size(n_engineers: int, n_slots: int, seed: int = 1, repeats: int = 3) -> str:
    """One markdown row: median solve time of `repeats` runs and the saving over greedy."""
    org = generate_org(n_engineers, n_slots, seed=seed)
    settings = PlanSettings(today=org.today)
    times, plan = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        plan = plan_training(org.engineers, org.workshops, org.requirements, settings)
        times.append(time.perf_counter() - started)
    assert plan is not None
    base = greedy_plan(org.engineers, org.workshops, org.requirements, settings)
    return (
        f"| {n_engineers} | {n_slots} | {statistics.median(times):.2f} | {plan.status} "
        f"| {plan.gap:.2%} | {plan.objective:.0f} | {base.objective:.0f} "
        f"| {base.training_hours - plan.training_hours:+.0f} "
        f"| {base.unfilled_slots - plan.unfilled_slots:+d} |"
    )


def main() -> None:
    print(
        "| engineers | slots | solve s (median of 3) | status | gap | objective | greedy "
        "objective | training h saved | unfilled slots saved |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n_engineers, n_slots in SIZES:
        print(bench_size(n_engineers, n_slots), flush=True)


if __name__ == "__main__":
    main()
