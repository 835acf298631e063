"""Autograding: the submission runs in one sandboxed kernel, its tests in another that it never
touched (see ``relay``), scored as ``nbgrader.utils.determine_grade`` (0.9) scores, except:

1. stderr output in a test cell that raised nothing keeps its points (nbgrader scores it 0; issue
   #1904 added a regex filter for library warnings instead);
2. a test cell's final value is its partial credit only when it is a real number from 0 to the
   cell's points; any other value (NaN, infinite, negative, too large, not a number) scores 0 and
   the rest of the notebook is graded (nbgrader gives full points for a negative or non-numeric
   value and records nothing for the whole notebook when the number is too large);
3. grade cells the student deleted are re-inserted from the source and graded (nbgrader leaves
   them "needing a manual grade" unless ``add_missing_cells`` is switched on);
4. a failing hidden check reports only its exception type, never its text or source.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import math
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import nbformat
from nbformat import NotebookNode

from webapp.grading.execute import Run, execute, stopped_from_outside
from webapp.grading.notebook import (
    BEGIN_HIDDEN,
    END_HIDDEN,
    Exercise,
    exercises,
    is_grade,
    read_notebook,
    replace_regions,
)
from webapp.grading.pool import WARM_UP, Kernel, KernelPool
from webapp.grading.prepare import Prepared, prepare
from webapp.grading.relay import (
    CheckReport,
    Relay,
    TrustedRun,
    class_names,
    plan_cells,
    test_indices,
)
from webapp.grading.sandbox import BACKENDS, UNSANDBOXED, Limits, Sandbox, probe_backends

log = logging.getLogger(__name__)
GRADER_VERSION = "2 (trusted checks)"  # stored with every grade; at most 32 characters
Status = Literal["passed", "partial", "failed", "timeout", "manual"]


class SandboxUnavailable(RuntimeError):
    """No sandbox backend works on this host and unsandboxed grading was not allowed."""


class ChecksFailed(RuntimeError):
    """The trusted kernel stopped before the end: the grader's fault, never the engineer's."""


class KernelStopped(RuntimeError):
    """The kernel running the answers was stopped from outside (a signal none of the sandbox's
    limits sends): no grade can be told from such a run."""


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
    pool_size: int = 8
    allow_unsandboxed: bool = False
    run_root: str | None = None
    check_seed: int | None = None  # fixed seed for the randomised checks; None: fresh per grade
    cpu_cores: float = 1.0
    warm_up: str = WARM_UP  # imported by each kernel while it waits in the pool

    def limits(self) -> Limits:
        cpu = int(self.notebook_timeout) + 60  # a backstop; wall-clock limits act first
        return Limits(
            self.memory_mb,
            self.address_space_mb,
            self.max_processes,
            self.max_file_mb,
            self.tmp_mb,
            cpu_seconds=cpu,
            cpu_cores=self.cpu_cores,
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
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        cells = {
            gid: {"points": c.points, "max_points": c.max_points, "status": c.status}
            for gid, c in self.cells.items()
        }
        return {"total": self.total, "max": self.max_total, "cells": cells}


# --- scoring ------------------------------------------------------------------------------------


def score(
    ex: Exercise,
    report: CheckReport | None,
    prepared: Prepared,
    manual_grades: dict[str, float],
    stopped: str | None = None,
) -> CellResult:
    """Score one exercise from what the trusted kernel reported (rules in the module docstring)."""
    if ex.kind != "auto":
        return _manual(ex, prepared, manual_grades)
    if report is None:
        return _result(ex, 0.0, "failed", f"not run: {stopped or 'the checks did not reach it'}")
    if report.status == "timeout":
        return _result(ex, 0.0, "timeout", report.evalue or "timed out")
    if report.status == "gone":
        return _result(ex, 0.0, "failed", report.evalue or "the answers' kernel stopped")
    if report.status != "ok":
        return _result(ex, 0.0, "failed", failure_message(report))
    return _auto_points(ex, report.result)


def failure_message(report: CheckReport) -> str:
    """A visible check's own message; a hidden one's exception type only."""
    ename = report.ename or "Error"
    if report.hidden:
        return f"a hidden check failed ({ename})"
    return f"{ename}: {report.evalue}"[:500] if report.evalue else ename


def _auto_points(ex: Exercise, result: dict[str, Any] | None) -> CellResult:
    """No final value: full points. Otherwise it must be a real number from 0 to the points."""
    if result is None:
        return _result(ex, ex.points, "passed", None)
    value = _number(result)
    if value is None:
        kind = result.get("type", "value")
        message = f"partial credit must be a number of points, not a {kind}"
        return _result(ex, 0.0, "failed", message)
    if not (math.isfinite(value) and 0 <= value <= ex.points):
        message = f"partial credit {value:g} is not between 0 and the cell's {ex.points:g} points"
        return _result(ex, 0.0, "failed", message)
    if value == ex.points:
        return _result(ex, value, "passed", None)
    return _result(ex, value, "failed" if value == 0 else "partial", None)


def _number(result: dict[str, Any]) -> float | None:
    if result.get("kind") != "number":
        return None
    try:
        return float(result.get("value"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


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


def without_tests(nb: NotebookNode, tests: set[int]) -> NotebookNode:
    """The notebook the submission's kernel runs: test cells become empty raw cells."""
    out = copy.deepcopy(nb)
    for index in tests:
        out.cells[index] = nbformat.v4.new_raw_cell("", metadata=out.cells[index].metadata)
    return out


def feedback(
    executed: NotebookNode, prepared: NotebookNode, tests: set[int], checks: TrustedRun
) -> NotebookNode:
    """The executed notebook with each test cell's visible source and visible results only."""
    fb = copy.deepcopy(executed)
    for cell in fb.cells:
        cell.get("metadata", {}).pop("_reply_status", None)
    for index in tests:
        cell = copy.deepcopy(prepared.cells[index])
        cell.source, _ = replace_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
        cell.outputs = _check_outputs(checks.reports.get(index), checks.stopped)
        fb.cells[index] = cell
    return fb


def _check_outputs(report: CheckReport | None, stopped: str | None) -> list[NotebookNode]:
    if report is None:
        reason = f"not run: {stopped or 'the checks did not reach this cell'}"
        return [_error_output("NotRun", reason)]
    outputs = [
        nbformat.v4.new_output("stream", name=name, text=text)
        for name, text in (("stdout", report.stdout), ("stderr", report.stderr))
        if text
    ]
    if report.status == "ok":
        if report.display is not None:
            outputs.append(
                nbformat.v4.new_output("execute_result", data={"text/plain": report.display})
            )
        return outputs
    if report.hidden:
        outputs.append(_error_output(report.ename or "Error", "a hidden check failed"))
    else:
        outputs.append(_error_output(report.ename or "Error", report.evalue or ""))
    return outputs


def _error_output(ename: str, evalue: str) -> NotebookNode:
    line = f"{ename}: {evalue}" if evalue else ename
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[line])


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
        self._pool = KernelPool(self._sandbox, config.pool_size, warm_up=config.warm_up)

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
        """Sanitise and execute ``submission``, and check it in a kernel it never touched."""
        if self._backend == UNSANDBOXED:
            log.warning("UNSANDBOXED: submitted code runs with the grader's rights")
        started = time.monotonic()
        prepared = prepare(source, submission)
        tests = test_indices(prepared.notebook)
        seed = (
            self.config.check_seed if self.config.check_seed is not None else secrets.randbits(62)
        )
        cells_plan = plan_cells(source, prepared.notebook)
        plan = {"cells": cells_plan, "classes": class_names(cells_plan), "seed": seed}
        student_nb = without_tests(prepared.notebook, tests)
        run, checks = self._pool.run(self._execute(student_nb, plan, data_dir))
        if run.outside:
            raise KernelStopped(run.outside)
        if checks.stopped:
            raise ChecksFailed(f"the checks did not finish: {checks.stopped}")
        for note in checks.notes:
            log.info("instructor cell failed on the trusted side: %s", note)
        cells: dict[str, CellResult] = {}
        for ex, index in _find_exercises(prepared.notebook):
            report = checks.reports.get(index)
            result = score(ex, report, prepared, manual_grades or {}, checks.stopped)
            cells[ex.grade_id] = _with_context(result, run, prepared.notebook, index)
        return GradeResult(
            cells=cells,
            total=sum(c.points or 0.0 for c in cells.values()),
            max_total=sum(c.max_points for c in cells.values()),
            tampered=prepared.tampered,
            feedback=feedback(student_nb, prepared.notebook, tests, checks),
            sandbox=self._backend,
            grader_version=GRADER_VERSION,
            duration_s=time.monotonic() - started,
            seed=seed,
        )

    def run_notebook(
        self, nb: NotebookNode, *, data_dir: Path | None = None
    ) -> tuple[NotebookNode, Run]:
        """Execute a copy of a trusted notebook (an instructor's) in one sandboxed kernel, with the
        grader's time and output limits; returns it with its outputs, and what happened per cell.

        For worked examples: nothing is checked, so never hand it a submission to grade."""
        executed = copy.deepcopy(nb)
        run = self._pool.run(self._run_alone(executed, data_dir))
        return executed, run

    async def _run_alone(self, nb: NotebookNode, data_dir: Path | None) -> Run:
        kernel = await self._pool.acquire()
        try:
            self._sandbox.copy_data(kernel.slot, data_dir)
            return await self._run_cells(nb, kernel)
        finally:
            self._pool.release(kernel)

    async def _run_cells(self, nb: NotebookNode, kernel: Kernel) -> Run:
        """Every code cell of ``nb`` in ``kernel``, within the grader's time limits."""
        return await execute(
            nb,
            kernel,
            self._sandbox,
            cell_timeout=self.config.cell_timeout,
            notebook_timeout=self.config.notebook_timeout,
        )

    async def _execute(
        self, nb: NotebookNode, plan: dict[str, Any], data_dir: Path | None
    ) -> tuple[Run, TrustedRun]:
        """The submission's run and the trusted checks, side by side on two fresh kernels."""
        student = await self._pool.acquire()
        trusted: Kernel | None = None
        try:
            trusted = await self._pool.acquire()
            for kernel in (student, trusted):
                self._sandbox.copy_data(kernel.slot, data_dir)
            ready = asyncio.Event()
            relay = Relay(
                trusted,
                student,
                plan,
                ready,
                cell_timeout=self.config.cell_timeout,
                notebook_timeout=self.config.notebook_timeout,
            )
            run, checks = await asyncio.gather(
                self._student_run(nb, student, ready), relay.execute()
            )
            if run.outside is None and relay.student_gone:  # stopped while serving the checks
                run.outside = await stopped_from_outside(student, self._sandbox)
            return run, checks
        finally:
            self._pool.release(student)
            if trusted is not None:
                self._pool.release(trusted)

    async def _student_run(self, nb: NotebookNode, kernel: Kernel, ready: asyncio.Event) -> Run:
        try:
            return await self._run_cells(nb, kernel)
        finally:
            ready.set()


def grade_files(source_path: Path, submission_path: Path, config: GraderConfig) -> GradeResult:
    """Grade one submission file against its source notebook (the ``flask grade`` command)."""
    source = read_notebook(Path(source_path).read_bytes())
    submission = read_notebook(Path(submission_path).read_bytes())
    with Grader(config) as grader:
        return grader.grade(source, submission, data_dir=Path(source_path).parent)
