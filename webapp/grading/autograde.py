"""nbgrader-exact autograding in a sandboxed, pre-started kernel.

Scoring follows ``nbgrader.utils.determine_grade`` (0.9), with three deliberate improvements:

1. stderr output in a test cell that raised nothing keeps its points (nbgrader scores it 0; issue
   #1904 added a regex filter for library warnings instead);
2. a partial-credit number above the cell's points scores that cell 0 and the rest of the notebook
   is graded (nbgrader raises ValueError and records nothing for the whole notebook);
3. grade cells the student deleted are re-inserted from the source and graded (nbgrader leaves
   them "needing a manual grade" unless ``add_missing_cells`` is switched on).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from nbformat import NotebookNode

from webapp.grading.execute import Outcome, Run, execute
from webapp.grading.notebook import (
    BEGIN_HIDDEN,
    END_HIDDEN,
    Exercise,
    exercises,
    has_region,
    is_grade,
    read_notebook,
    replace_regions,
)
from webapp.grading.pool import KernelPool
from webapp.grading.prepare import Prepared, prepare
from webapp.grading.sandbox import BACKENDS, UNSANDBOXED, Limits, Sandbox, probe_backends

log = logging.getLogger(__name__)
GRADER_VERSION = "1 (nbgrader 0.9 scoring)"  # stored with every grade; at most 32 characters
Status = Literal["passed", "partial", "failed", "timeout", "manual"]


class SandboxUnavailable(RuntimeError):
    """No sandbox backend works on this host and unsandboxed grading was not allowed."""


@dataclass(frozen=True)
class GraderConfig:
    kernel_python: str = "/opt/skillforge/kernel/bin/python"
    cell_timeout: float = 30
    notebook_timeout: float = 600
    memory_mb: int = 2048
    address_space_mb: int = 4096
    max_processes: int = 64
    max_file_mb: int = 64
    tmp_mb: int = 256
    pool_size: int = 4
    allow_unsandboxed: bool = False
    run_root: str | None = None

    def limits(self) -> Limits:
        cpu = int(self.notebook_timeout) + 60  # a backstop; wall-clock limits act first
        return Limits(
            self.memory_mb,
            self.address_space_mb,
            self.max_processes,
            self.max_file_mb,
            self.tmp_mb,
            cpu_seconds=cpu,
        )


@dataclass(frozen=True)
class CellResult:
    """The score of one exercise. ``message`` never contains hidden-test source."""

    grade_id: str
    points: float | None
    max_points: float
    status: Status
    message: str | None
    skill: str | None


@dataclass(frozen=True)
class GradeResult:
    cells: dict[str, CellResult]
    total: float
    max_total: float
    tampered: tuple[str, ...]
    feedback: NotebookNode
    sandbox: str
    grader_version: str
    duration_s: float

    def to_json(self) -> dict[str, Any]:
        cells = {
            gid: {"points": c.points, "max_points": c.max_points, "status": c.status}
            for gid, c in self.cells.items()
        }
        return {"total": self.total, "max": self.max_total, "cells": cells}


# --- scoring ------------------------------------------------------------------------------------


def score(
    ex: Exercise,
    cell: NotebookNode,
    outcome: Outcome | None,
    prepared: Prepared,
    manual_grades: dict[str, float],
) -> CellResult:
    """Score one exercise of the executed notebook (see the module docstring for the rules)."""
    if ex.kind != "auto":
        return _manual(ex, prepared, manual_grades)
    if outcome is None or outcome.state == "skipped":
        reason = outcome.message if outcome else "the cell did not run"
        return _result(ex, 0.0, "failed", f"not run: {reason}")
    if outcome.state == "timeout":
        return _result(ex, 0.0, "timeout", outcome.message)
    if outcome.state in ("error", "killed"):
        return _result(ex, 0.0, "failed", outcome.message)
    return _auto_points(ex, cell)


def _auto_points(ex: Exercise, cell: NotebookNode) -> CellResult:
    for output in cell.outputs:
        if output.get("output_type") != "execute_result":
            continue
        try:
            value = float(output.get("data", {}).get("text/plain", ""))
        except ValueError:
            break  # non-numeric result: full points, as nbgrader
        if not math.isfinite(value):
            break
        if value > ex.points:
            message = f"partial credit {value:g} is more than the cell's {ex.points:g} points"
            return _result(ex, 0.0, "failed", message)
        if value < 0:
            break  # nbgrader: negative partial credit gives full points
        status: Status = "passed" if value == ex.points else "partial"
        return _result(ex, value, "failed" if value == 0 < ex.points else status, None)
    return _result(ex, ex.points, "passed", None)


def _manual(ex: Exercise, prepared: Prepared, manual_grades: dict[str, float]) -> CellResult:
    if ex.grade_id in manual_grades:
        given = float(manual_grades[ex.grade_id])
        status: Status = "passed" if given >= ex.points else ("partial" if given > 0 else "failed")
        return _result(ex, given, status, None)
    if ex.kind == "manual" and ex.grade_id in prepared.untouched_answers:
        return _result(ex, 0.0, "failed", "not answered")
    return _result(ex, None, "manual", "waiting for a reviewer")


def _result(ex: Exercise, points: float | None, status: Status, message: str | None) -> CellResult:
    return CellResult(ex.grade_id, points, ex.points, status, message, ex.skill)


def _find_exercises(nb: NotebookNode) -> list[tuple[Exercise, int]]:
    return [(ex, ex.cell_index) for ex in exercises(nb)]


def _with_context(result: CellResult, run: Run, nb: NotebookNode, index: int) -> CellResult:
    """When a test fails after its answer cell failed, say what went wrong in the answer."""
    if result.status not in ("failed", "timeout") or result.message is None:
        return result
    for earlier in range(index - 1, -1, -1):
        if is_grade(nb.cells[earlier]):
            break
        outcome = run.outcomes.get(earlier)
        if outcome and outcome.state in ("timeout", "killed"):
            status: Status = "timeout" if outcome.state == "timeout" else "failed"
            return CellResult(
                result.grade_id, 0.0, result.max_points, status, outcome.message, result.skill
            )
        if outcome and outcome.state == "error":
            message = f"{result.message} (after an error above: {outcome.message})"
            return CellResult(
                result.grade_id, 0.0, result.max_points, result.status, message, result.skill
            )
    return result


# --- feedback -------------------------------------------------------------------------------------


def feedback(executed: NotebookNode, source: NotebookNode) -> NotebookNode:
    """The executed notebook without hidden-test lines, nor tracebacks that would show them."""
    fb = copy.deepcopy(executed)
    hidden_ids = {
        c.metadata["nbgrader"]["grade_id"]
        for c in source.cells
        if has_region(c.source, BEGIN_HIDDEN) and c.get("metadata", {}).get("nbgrader")
    }
    for cell in fb.cells:
        cell.get("metadata", {}).pop("_reply_status", None)
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid not in hidden_ids:
            continue
        cell.source, _ = replace_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename')}: {output.get('evalue')}"]
    return fb


# --- the grader -----------------------------------------------------------------------------------


def choose_backend(config: GraderConfig) -> str:
    """The first backend that works here; ``none`` only when allowed (logged loudly)."""
    probes = probe_backends(config.kernel_python, config.run_root)
    for backend in BACKENDS:
        if probes[backend] == "ok":
            return backend
    if config.allow_unsandboxed:
        log.warning("UNSANDBOXED grading: no sandbox works here (%s)", probes)
        return UNSANDBOXED
    raise SandboxUnavailable(f"no sandbox backend works on this host: {probes}")


class Grader:
    """Grades submissions in sandboxed kernels from a warm pool. Thread-safe; a context manager."""

    def __init__(self, config: GraderConfig) -> None:
        """Probe the sandbox backends and start the pool; raises SandboxUnavailable."""
        self.config = config
        self._backend = choose_backend(config)
        self._sandbox = Sandbox(
            self._backend, config.kernel_python, config.limits(), config.run_root
        )
        self._pool = KernelPool(self._sandbox, config.pool_size)

    @property
    def backend(self) -> str:
        return self._backend

    def __enter__(self) -> Grader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._pool.close()

    def grade(
        self,
        source: NotebookNode,
        submission: NotebookNode,
        *,
        data_dir: Path | None = None,
        manual_grades: dict[str, float] | None = None,
    ) -> GradeResult:
        """Sanitise, execute and score ``submission`` against its ``source`` notebook."""
        if self._backend == UNSANDBOXED:
            log.warning("UNSANDBOXED: submitted code runs with the grader's rights")
        started = time.monotonic()
        prepared = prepare(source, submission)
        run = self._pool.run(self._execute(prepared.notebook, data_dir))
        cells: dict[str, CellResult] = {}
        for ex, index in _find_exercises(prepared.notebook):
            cell = prepared.notebook.cells[index]
            result = score(ex, cell, run.outcomes.get(index), prepared, manual_grades or {})
            cells[ex.grade_id] = _with_context(result, run, prepared.notebook, index)
        return GradeResult(
            cells=cells,
            total=sum(c.points or 0.0 for c in cells.values()),
            max_total=sum(c.max_points for c in cells.values()),
            tampered=prepared.tampered,
            feedback=feedback(prepared.notebook, source),
            sandbox=self._backend,
            grader_version=GRADER_VERSION,
            duration_s=time.monotonic() - started,
        )

    async def _execute(self, nb: NotebookNode, data_dir: Path | None) -> Run:
        kernel = await self._pool.acquire()
        try:
            self._sandbox.copy_data(kernel.slot, data_dir)
            return await execute(
                nb,
                kernel,
                self._sandbox,
                cell_timeout=self.config.cell_timeout,
                notebook_timeout=self.config.notebook_timeout,
            )
        finally:
            self._pool.release(kernel)


def grade_files(source_path: Path, submission_path: Path, config: GraderConfig) -> GradeResult:
    """Grade one submission file against its source notebook (the ``flask grade`` command)."""
    source = read_notebook(Path(source_path).read_bytes())
    submission = read_notebook(Path(submission_path).read_bytes())
    with Grader(config) as grader:
        return grader.grade(source, submission, data_dir=Path(source_path).parent)
