"""Submit-to-grade latency and throughput: the grader now, the grader before, and nbconvert.

    .venv/bin/python bench/bench_grading.py [--runs 20] [--workers 2] [--before REV]

Prints markdown tables, one per notebook: a 5-cell nbgrader notebook and a real workshop notebook
(its reference solution, with its data). Baselines measured in the same run on the same machine:
the notebook's own execution time in an already-running kernel, `jupyter nbconvert --to notebook
--execute` (what a CLI-per-submission grader costs), and, with ``--before REV``, the grader as it
was at that commit (its `webapp/` and `courses/` extracted with `git archive` into a temporary
folder and run there, so it grades that commit's version of the workshop), each run ``--workers``
submissions at a time for throughput. The baselines run the notebook without its test cells (the
engineer's own code: a real workshop's hidden checks need the trusted kernel's library). The grader
now runs twice: with the pool's default warm-up (imports made while a kernel waits) and with the
lean one (``GRADER_WARM_UP``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(os.environ.get("SKILLFORGE_BENCH_ROOT", Path(__file__).resolve().parent.parent))
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp.grading.autograde import Grader, GraderConfig  # noqa: E402

KERNEL_PYTHON = "/opt/skillforge/kernel/bin/python"
WORKSHOP = "overfitting/01-regularisation-and-cv.ipynb"


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


@contextlib.contextmanager
def notebook_files(name: str) -> Iterator[tuple[nbformat.NotebookNode, Path]]:
    """The notebook and a folder holding it with its data files (the kernel's working dir)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if name == "small":
            nb = small_notebook()
        else:
            source = ROOT / "courses" / name
            nb = nbformat.read(source, as_version=4)
            for item in source.parent.iterdir():
                if item.is_file() and item.suffix not in (".ipynb", ".toml"):
                    (folder / item.name).write_bytes(item.read_bytes())
        spec = {"name": "skillforge", "display_name": "k", "language": "python"}
        nb.metadata["kernelspec"] = spec
        nbformat.write(nb, folder / "notebook.ipynb")
        yield nb, folder


def without_test_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook minus its autograded test cells: what the engineer's own code costs."""

    def is_test(cell: nbformat.NotebookNode) -> bool:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")

    out = nbformat.from_dict(nb)
    out.cells = [c for c in out.cells if not is_test(c)]
    return out


def own_execution_time(nb: nbformat.NotebookNode, folder: Path, runs: int) -> float:
    """Median time to run every cell once in an already-started, unsandboxed kernel."""

    async def measure() -> list[float]:
        times = []
        for _ in range(runs):
            km = AsyncKernelManager()
            km._kernel_spec = KernelSpec(
                argv=[KERNEL_PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                language="python",
            )
            await km.start_kernel(cwd=str(folder))
            kc = km.client()
            kc.start_channels()
            await kc.wait_for_ready(timeout=60)
            client = NotebookClient(nb, km=km, timeout=120)
            client.kc = kc
            start = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    await client.async_execute_cell(cell, index)
            times.append(time.perf_counter() - start)
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return times

    return statistics.median(asyncio.run(measure()))


def nbconvert_times(folder: Path, runs: int, workers: int) -> tuple[list[float], float]:
    """Per-run latencies and the wall time of ``runs`` runs, ``workers`` at a time."""
    kernels = folder / "kernels" / "skillforge"
    kernels.mkdir(parents=True, exist_ok=True)
    argv = [KERNEL_PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (kernels / "kernel.json").write_text(
        json.dumps({"argv": argv, "language": "python", "display_name": "k"})
    )
    env = {**os.environ, "JUPYTER_PATH": str(folder)}
    jupyter = str(Path(sys.executable).parent / "jupyter")
    cmd = [jupyter, "nbconvert", "--to", "notebook", "--execute", "--stdout", "notebook.ipynb"]

    def one(_: int) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True, cwd=folder)
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        latencies = list(pool.map(one, range(runs)))
    return latencies, time.perf_counter() - start


def grader_times(
    name: str, runs: int, workers: int, warm_up: str | None = None
) -> dict[str, object]:
    """Sequential latencies on a warm pool, then the wall time of a burst of ``runs``."""
    config = GraderConfig() if warm_up is None else GraderConfig(warm_up=warm_up)
    with notebook_files(name) as (nb, folder), Grader(config) as grader:
        time.sleep(5)  # let the pool warm up
        full = None
        latencies = []
        for _ in range(runs):
            start = time.perf_counter()
            result = grader.grade(nb, nb, data_dir=folder)
            latencies.append(time.perf_counter() - start)
            full = result.total == result.max_total
            time.sleep(1.0)  # a submission arrives; replacement kernels are ready by the next
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda _: grader.grade(nb, nb, data_dir=folder), range(runs)))
        wall = time.perf_counter() - start
        pool_size = grader.config.pool_size
        return {"latencies": latencies, "wall": wall, "backend": grader.backend,
                "pool": pool_size, "full": full}  # fmt: skip


def grader_times_at(rev: str, name: str, runs: int, workers: int) -> dict[str, object]:
    """The same measurement with the grader's code as it was at ``rev``."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", rev, "webapp", "courses"],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        env = {**os.environ, "SKILLFORGE_BENCH_ROOT": tmp}
        cmd = [sys.executable, __file__, "--child", name, "--runs", str(runs)]
        done = subprocess.run(
            [*cmd, "--workers", str(workers)], env=env, capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout.strip().splitlines()[-1])


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[-1] if len(values) >= 2 else values[0]


def report(name: str, args: argparse.Namespace) -> None:
    with notebook_files(name) as (nb, folder):
        plain = without_test_cells(nb)
        nbformat.write(plain, folder / "notebook.ipynb")
        own = own_execution_time(plain, folder, min(args.runs, 5))
        nbc, nbc_wall = nbconvert_times(folder, args.runs, args.workers)
    from webapp.grading.pool import LEAN_WARM_UP

    lean = grader_times(name, args.runs, args.workers, LEAN_WARM_UP)
    now = grader_times(name, args.runs, args.workers)
    rows = [
        ("notebook's own execution (warm kernel, no grading)", [own], None),
        ("`jupyter nbconvert --to notebook --execute`", nbc, nbc_wall),
    ]
    if args.before:
        was = grader_times_at(args.before, name, args.runs, args.workers)
        label = f"grader before (`{args.before}`, one kernel, pool {was['pool']})"
        rows.append((label, was["latencies"], was["wall"]))
    label = f"grader now (trusted checks, {now['backend']}, pool {now['pool']}, default warm-up)"
    rows.append((label, now["latencies"], now["wall"]))
    label = f"grader now, lean warm-up (`{LEAN_WARM_UP}`)"
    rows.append((label, lean["latencies"], lean["wall"]))
    title = "5-cell notebook" if name == "small" else f"`courses/{name}` (reference solution)"
    print(f"\n### {title}\n")
    print(f"{args.runs} runs each; throughput with {args.workers} submissions at a time\n")
    print("| what | median | p99 | submissions/min | × nbconvert throughput |")
    print("|---|---|---|---|---|")
    for label, values, wall in rows:
        rate = f"{60 * args.runs / wall:.0f}" if wall else "–"
        ratio = f"{nbc_wall / wall:.1f} ×" if wall else "–"
        median, slow = statistics.median(values) * 1000, p99(values) * 1000
        print(f"| {label} | {median:.0f} ms | {slow:.0f} ms | {rate} | {ratio} |")
    goal = 2 * own + 0.1
    for what, run in (("default warm-up", now), ("lean warm-up", lean)):
        median = statistics.median(run["latencies"])  # type: ignore[arg-type]
        ratio = nbc_wall / run["wall"]  # type: ignore[operator]
        print(
            f"\n{what}: full marks {run['full']}. Goal median ≤ 2 × own + 100 ms = "
            f"{goal * 1000:.0f} ms: {'met' if median <= goal else 'NOT met'} "
            f"({median * 1000:.0f} ms); throughput ≥ 3 × nbconvert: "
            f"{'met' if ratio >= 3 else 'NOT met'} ({ratio:.1f} ×)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--before", help="a git revision whose grader to measure alongside")
    parser.add_argument("--workshop", default=WORKSHOP, help="a notebook under courses/")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(grader_times(args.child, args.runs, args.workers)))
        return
    for name in ("small", args.workshop):
        report(name, args)


if __name__ == "__main__":
    main()
