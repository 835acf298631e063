"""Check one exercise in the engineer's live kernel: their answer, then its *visible* tests.

The test code comes from the student version, from which nbgrader's release removed the hidden
tests, so they never reach a live kernel. A practice check says passed or what failed (the test's
own message, the failing line); it is never verified evidence — Submit grades in the trusted grader.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import nbformat

from webapp.grading import notebook as nbg
from webapp.services.cache import LRU
from webapp.services.errors import NotFound
from webapp.services.learning.live_outputs import CellRun, events, failing_line


@dataclass(frozen=True)
class CheckPlan:
    grade_id: str
    answers: tuple[tuple[str, str], ...]  # (grade id, stub source) of the exercise's answer cells
    test_source: str


@dataclass
class CheckResult:
    passed: bool = False
    message: str = ""
    line: str = ""
    outputs: list[str] = field(default_factory=list)  # sanitised HTML of the answer and test runs


def plan_for(student: dict[str, Any], grade_id: str) -> CheckPlan:
    """The answer cells an exercise's test cell checks (those since the previous test cell) and
    its visible test source; raises NotFound for an id that is not an auto-graded test cell."""
    answers: list[tuple[str, str]] = []
    for cell in nbformat.from_dict(student).cells:
        gid = nbg.grade_id(cell)
        if cell.cell_type != "code" or not gid:
            continue
        if nbg.is_solution(cell):
            answers.append((gid, cell.source))
        elif nbg.is_grade(cell):
            if gid == grade_id:
                return CheckPlan(grade_id, tuple(answers), cell.source)
            answers = []
    raise NotFound("This notebook has no such exercise to check.")


def run_check(
    plan: CheckPlan, answers: dict[str, str], execute: Any, max_seconds: float
) -> Iterator[dict[str, Any]]:
    """Run the answers then the test through ``execute(code)`` (the kernel's messages); yield the
    page's events, ending with ``{"event": "checked", "passed", "message", "line"}``."""
    result = CheckResult()
    for gid, stub in plan.answers:
        run = CellRun()
        yield from _outputs(events(execute(answers.get(gid, stub)), run))
        if run.status != "ok":
            result.message = _answer_failed(run)
            yield _checked(result)
            return
    run = CellRun()
    yield from _outputs(events(execute(plan.test_source), run))
    result.passed = run.status == "ok"
    if not result.passed:
        result.message = _test_failed(run, max_seconds)
        result.line = failing_line(run.traceback, plan.test_source, run.execution_count)
    yield _checked(result)


def _outputs(stream: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for event in stream:
        if event["event"] == "output":
            yield event


def _checked(result: CheckResult) -> dict[str, Any]:
    return {
        "event": "checked",
        "passed": result.passed,
        "message": result.message,
        "line": result.line,
    }


def _answer_failed(run: CellRun) -> str:
    if run.status == "restarted":
        return "The kernel stopped while running your answer (out of memory or time) and restarted."
    if run.status == "still running":
        return "Your answer is still running; interrupt the kernel, then check again."
    return f"Your answer raised {run.error_name}: {run.error_value}".rstrip(": ")


def _test_failed(run: CellRun, max_seconds: float) -> str:
    if run.status == "restarted":
        return "The kernel stopped during the test (out of memory or time) and restarted."
    if run.status == "still running":
        return f"The test is still running after {max_seconds:g} seconds; interrupt the kernel."
    if run.error_name == "AssertionError":
        return run.error_value or "A test's condition was false."
    return f"The test raised {run.error_name}: {run.error_value}".rstrip(": ")


@dataclass(frozen=True)
class LiveCell:
    """A code cell as the notebook page runs it: locked code, an answer (its text comes from the
    editor), or a test cell (its visible tests; ``points`` when it can be checked)."""

    cell_id: str
    kind: str  # "code", "answer" or "test"
    grade_id: str
    source: str
    points: float


_LIVE_CELLS: LRU[str, tuple[LiveCell, ...]] = LRU(256)


def live_cells(student: dict[str, Any] | None, content_hash: str) -> tuple[LiveCell, ...]:
    """The student version's code cells (hidden tests were removed at release), cached by hash;
    ``student`` may be None when the hash is cached."""
    cached = _LIVE_CELLS.get(content_hash)
    if cached is not None or student is None:
        return cached or ()
    cells = []
    for cell in nbformat.from_dict(student).cells:
        if cell.cell_type != "code":
            continue
        gid = nbg.grade_id(cell) or ""
        if nbg.is_solution(cell):
            cells.append(LiveCell(str(cell.get("id", "")), "answer", gid, "", 0.0))
        elif nbg.is_grade(cell) and gid:
            cells.append(
                LiveCell(str(cell.get("id", "")), "test", gid, cell.source, nbg.points(cell))
            )
        else:
            cells.append(LiveCell(str(cell.get("id", "")), "code", gid, cell.source, 0.0))
    result = tuple(cells)
    _LIVE_CELLS.put(content_hash, result)
    return result
