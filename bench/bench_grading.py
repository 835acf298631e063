"""Submit-to-grade latency and throughput of the warm sandboxed pool against `jupyter nbconvert`.

    .venv/bin/python bench/bench_grading.py [--runs 20] [--workers 2] [--pool 4]

Prints a markdown table. Baselines measured in the same run on the same small notebook:
its own execution time in an already-running kernel, and `jupyter nbconvert --to notebook
--execute` (what a CLI-per-submission grader costs), run ``--workers`` at a time for throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp.grading.autograde import Grader, GraderConfig  # noqa: E402

KERNEL_PYTHON = "/opt/skillforge/kernel/bin/python"


def small_notebook() -> nbformat.NotebookNode:
    def meta(gid: str, **flags: object) -> dict[str, object]:
        data = {"schema_version": 3, "grade": False, "solution": False, "locked": False}
        return {"nbgrader": {**data, "task": False, "grade_id": gid, **flags}}

    test = {"grade": True, "locked": True, "points": 1}
    cells = [
        new_code_cell("rows = [3, 1, None, 4, 1, 5, None, 9]", metadata=meta("data", locked=True)),
        new_code_cell(
            "def clean(xs):\n    return [x for x in xs if x is not None]",
            metadata=meta("a1", solution=True),
        ),
        new_code_cell("assert clean(rows) == [3, 1, 4, 1, 5, 9]", metadata=meta("t1", **test)),
        new_code_cell(
            "def mean(xs):\n    return sum(xs) / len(xs)", metadata=meta("a2", solution=True)
        ),
        new_code_cell("assert mean(clean(rows)) == 23 / 6", metadata=meta("t2", **test)),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "skillforge",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def own_execution_time(nb: nbformat.NotebookNode, runs: int) -> float:
    """Median time to run the cells in an already-started, unsandboxed kernel."""

    async def measure() -> list[float]:
        km = AsyncKernelManager()
        km._kernel_spec = KernelSpec(
            argv=[KERNEL_PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            language="python",
        )
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        client = NotebookClient(nb, km=km)
        client.kc = kc
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                await client.async_execute_cell(cell, index)
            times.append(time.perf_counter() - start)
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
        return times

    return statistics.median(asyncio.run(measure()))


def nbconvert_times(path: Path, runs: int, workers: int) -> tuple[list[float], float]:
    """Per-run latencies and the wall time of ``runs`` runs, ``workers`` at a time."""
    kernels = path.parent / "kernels" / "skillforge"
    kernels.mkdir(parents=True, exist_ok=True)
    argv = [KERNEL_PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (kernels / "kernel.json").write_text(
        json.dumps({"argv": argv, "language": "python", "display_name": "k"})
    )
    env = {**os.environ, "JUPYTER_PATH": str(path.parent)}
    jupyter = str(Path(sys.executable).parent / "jupyter")
    cmd = [jupyter, "nbconvert", "--to", "notebook", "--execute", "--stdout", str(path)]

    def one(_: int) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        latencies = list(pool.map(one, range(runs)))
    return latencies, time.perf_counter() - start


def grader_times(
    nb: nbformat.NotebookNode, runs: int, workers: int, pool: int
) -> tuple[list[float], float, str]:
    """Sequential latencies on a warm pool, then the wall time of a burst of ``runs``."""
    with Grader(GraderConfig(pool_size=pool)) as grader:
        time.sleep(2)  # let the pool warm up
        latencies = []
        for _ in range(runs):
            start = time.perf_counter()
            result = grader.grade(nb, nb)
            latencies.append(time.perf_counter() - start)
            assert result.total == 2, result.to_json()
            time.sleep(0.7)  # a submission arrives; the replacement kernel is ready by the next
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda _: grader.grade(nb, nb), range(runs)))
        return latencies, time.perf_counter() - start, grader.backend


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", type=int, default=4, help="warm kernels kept ready")
    args = parser.parse_args()
    nb = small_notebook()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "small.ipynb"
        nbformat.write(nb, path)
        own = own_execution_time(nb, args.runs)
        nbc, nbc_wall = nbconvert_times(path, args.runs, args.workers)
    pool, pool_wall, backend = grader_times(nb, args.runs, args.workers, args.pool)
    rows = [
        ("notebook's own execution (warm kernel, no grading)", [own], None),
        ("`jupyter nbconvert --to notebook --execute`", nbc, nbc_wall),
        (f"Skillforge grader, warm pool ({backend}, pool {args.pool})", pool, pool_wall),
    ]
    print(f"{args.runs} runs each; throughput with {args.workers} submissions at a time\n")
    print("| what | median | p95 | submissions/min |")
    print("|---|---|---|---|")
    for name, values, wall in rows:
        rate = f"{60 * args.runs / wall:.0f}" if wall else "–"
        median, slow = statistics.median(values) * 1000, p95(values) * 1000
        print(f"| {name} | {median:.0f} ms | {slow:.0f} ms | {rate} |")
    goal = 2 * own + 0.1
    print(
        f"\nGoal: median < 2 x own + 100 ms = {goal * 1000:.0f} ms: "
        f"{'met' if statistics.median(pool) < goal else 'NOT met'}; "
        f"throughput >= 3 x nbconvert: {'met' if nbc_wall / pool_wall >= 3 else 'NOT met'} "
        f"({nbc_wall / pool_wall:.1f} x)"
    )


if __name__ == "__main__":
    main()
