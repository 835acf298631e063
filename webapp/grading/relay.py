"""Run a notebook's tests in a trusted kernel that never ran submitted code (grader side).

The submission's kernel executes the student notebook without its test cells (that is what the
engineer sees). A second, fresh sandboxed kernel runs ``kernel_trusted``: the instructor's cells
from the source notebook, then every test cell. When a check uses a name that an answer cell
defines, the trusted kernel asks for it through this relay, which passes messages between the
two kernels' stdin channels and decodes nothing the submission sends. Hidden test source never
leaves the trusted kernel; neither does the output or text of a failing hidden check.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from webapp.grading.notebook import (
    BEGIN_HIDDEN,
    END_HIDDEN,
    grade_id,
    is_grade,
    is_solution,
)
from webapp.grading.pool import Kernel

HERE = Path(__file__).parent
CODEC_SOURCE = (HERE / "kernel_codec.py").read_text(encoding="utf-8")
RPC_SOURCE = (HERE / "kernel_rpc.py").read_text(encoding="utf-8")
TRUSTED_SOURCE = (HERE / "kernel_trusted.py").read_text(encoding="utf-8")
MAX_MESSAGE = 64 * 1024 * 1024  # characters of one base64 message from the submission
INTERRUPT_GRACE_S = 3.0
POLL_S = 0.5
BOOTSTRAP_MIN_S, BOOTSTRAP_MAX_S = 10.0, 30.0  # for the answers' kernel to start serving checks


@dataclass(frozen=True)
class CheckReport:
    """What the trusted kernel said of one test cell (visible text only)."""

    index: int
    status: str  # ok, error, timeout, gone, not-run
    ename: str | None = None
    evalue: str | None = None
    hidden: bool = False
    stdout: str = ""
    stderr: str = ""
    display: str | None = None
    result: dict[str, Any] | None = None


@dataclass
class TrustedRun:
    reports: dict[int, CheckReport] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the trusted kernel stopped before the end, if it did


# --- the plan: what the trusted kernel runs, all from the source notebook -------------------------


def plan_cells(source: NotebookNode, prepared: NotebookNode) -> list[dict[str, Any]]:
    """The source's code cells in order, with the prepared notebook's index of each test cell."""
    where = {gid: i for i, c in enumerate(prepared.cells) if (gid := grade_id(c))}
    cells: list[dict[str, Any]] = []
    for index, cell in enumerate(source.cells):
        if cell.cell_type != "code":
            continue
        gid = grade_id(cell)
        if is_solution(cell):
            cells.append(
                {
                    "kind": "answer",
                    "index": index,
                    "source": cell.source,
                    "names": defined_names(cell.source),
                }
            )
        elif is_grade(cell) and gid in where:
            cells.append(
                {
                    "kind": "test",
                    "index": where[gid],
                    "grade_id": gid,
                    "source": cell.source,
                    "hidden": hidden_ranges(cell.source),
                }
            )
        else:
            cells.append({"kind": "instructor", "index": index, "source": cell.source})
    return cells


def test_indices(prepared: NotebookNode) -> set[int]:
    """Cells of the prepared notebook that only the trusted kernel runs."""
    return {
        i
        for i, c in enumerate(prepared.cells)
        if c.cell_type == "code" and is_grade(c) and not is_solution(c)
    }


def defined_names(source: str) -> list[str]:
    """Module-level names a reference solution binds (never its imports): what tests may use.

    Assignments inside ``if``, ``for``, ``while``, ``try`` and ``with`` blocks count; nothing
    inside a function or class body does.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    _collect(tree.body, names)
    return list(dict.fromkeys(names))


def _collect(body: list[ast.stmt], names: list[str]) -> None:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
            continue
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor):
            targets = [node.target]
        elif isinstance(node, ast.With | ast.AsyncWith):
            targets = [item.optional_vars for item in node.items if item.optional_vars]
        for target in targets:
            names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
        for block in ("body", "orelse", "finalbody"):
            _collect(getattr(node, block, []) or [], names)
        for handler in getattr(node, "handlers", []) or []:
            _collect(handler.body, names)


def class_names(cells: list[dict[str, Any]]) -> list[str]:
    """Classes the instructor's own cells define: their instances cross by value."""
    names: list[str] = []
    for cell in cells:
        if cell["kind"] != "instructor":
            continue
        with contextlib.suppress(SyntaxError):
            names += [n.name for n in ast.parse(cell["source"]).body if isinstance(n, ast.ClassDef)]
    return names


def hidden_ranges(source: str) -> list[list[int]]:
    """1-based line ranges of the hidden-test regions, markers included."""
    ranges: list[list[int]] = []
    start: int | None = None
    for number, line in enumerate(source.split("\n"), start=1):
        if BEGIN_HIDDEN in line and start is None:
            start = number
        elif END_HIDDEN in line and start is not None:
            ranges.append([start, number])
            start = None
    if start is not None:
        ranges.append([start, len(source.split("\n"))])
    return ranges


# --- talking to one kernel over its stdin channel -------------------------------------------------


class Channel:
    """One execute request that talks through ``input()``; replies to each input request."""

    def __init__(self, kernel: Kernel, code: str) -> None:
        self.kernel = kernel
        self.msg_id = kernel.kc.execute(code, silent=False, store_history=False, allow_stdin=True)
        self._reply: asyncio.Task[Any] = asyncio.ensure_future(self._wait_reply())
        self._stdin: asyncio.Task[Any] | None = None
        self._drain = asyncio.ensure_future(self._drain_iopub())

    async def _wait_reply(self) -> dict[str, Any]:
        while True:
            msg = await self.kernel.kc.get_shell_msg(timeout=None)
            if msg.get("parent_header", {}).get("msg_id") == self.msg_id:
                return msg

    async def _drain_iopub(self) -> None:
        """Discard what the kernel prints while it serves calls (never stored, never shown)."""
        with contextlib.suppress(Exception):
            while True:
                await self.kernel.kc.get_iopub_msg(timeout=None)

    async def next(self, deadline: float) -> tuple[str, str | None]:
        """("input", prompt), ("finished", None), ("timeout", None) or ("dead", None)."""
        while True:
            if self._stdin is None:
                self._stdin = asyncio.ensure_future(self.kernel.kc.get_stdin_msg(timeout=None))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout", None
            done, _ = await asyncio.wait(
                {self._stdin, self._reply},
                timeout=min(POLL_S, remaining),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if self._stdin in done:
                msg = self._stdin.result()
                self._stdin = None
                if msg.get("msg_type") == "input_request":
                    return "input", str(msg.get("content", {}).get("prompt", ""))
                continue
            if self._reply in done:
                return "finished", None
            if not await self.kernel.km.is_alive():
                return "dead", None

    def answer(self, text: str) -> None:
        self.kernel.kc.input(text)

    def failure(self) -> str:
        """Why the request ended without asking for more (its error), once it has ended."""
        content = self._reply.result().get("content", {}) if self._reply.done() else {}
        if content.get("status") == "error":
            return f"{content.get('ename')}: {content.get('evalue')}"[:500]
        return "the checks ended early"

    async def interrupt(self) -> None:
        with contextlib.suppress(Exception):
            await self.kernel.km.interrupt_kernel()

    def close(self) -> None:
        for task in (self._stdin, self._reply, self._drain):
            if task is not None:
                task.cancel()


def _install(name: str, source: str) -> str:
    """Code that runs ``source`` as module ``name`` in the kernel (importable by that name)."""
    return (
        f"_m = types.ModuleType({name!r})\n"
        f"sys.modules[{name!r}] = _m\n"
        f"exec(compile({source!r}, {name!r}, 'exec'), _m.__dict__)\n"
    )


def student_bootstrap(classes: list[str]) -> str:
    return (
        "def __skillforge_serve():\n"
        "    import sys, types\n"
        + "".join(f"    {line}\n" for line in _install("kernel_codec", CODEC_SOURCE).splitlines())
        + "".join(f"    {line}\n" for line in _install("kernel_rpc", RPC_SOURCE).splitlines())
        + f"    _m.serve_student(get_ipython().user_ns, {classes!r})\n"
        "__skillforge_serve()\n"
    )


def trusted_bootstrap() -> str:
    return (
        "import sys, types\n"
        + _install("kernel_codec", CODEC_SOURCE)
        + _install("kernel_rpc", RPC_SOURCE)
        + "rpc = _m\n"
        + _install("kernel_trusted", TRUSTED_SOURCE)
        + "_m.main(rpc)\n"
    )


# --- the relay ------------------------------------------------------------------------------------


class Relay:
    """Runs the trusted kernel's plan, passing its calls to the submission's kernel.

    Time limits: each call into the submission's kernel must answer before its test cell has
    run for ``cell_timeout`` (then it is interrupted, and the cell is a time-out); the trusted
    kernel's own work may take ``notebook_timeout`` in all, not counting the time it waits for
    the submission. A trusted kernel over that budget is the checks' fault: the run stops and
    the grade fails (ChecksFailed), it is never scored against the engineer.
    """

    def __init__(
        self,
        trusted: Kernel,
        student: Kernel,
        plan: dict[str, Any],
        student_ready: asyncio.Event,
        *,
        cell_timeout: float,
        notebook_timeout: float,
    ) -> None:
        self.trusted_kernel, self.student_kernel = trusted, student
        self.plan = plan
        self.student_ready = student_ready
        self.cell_timeout = cell_timeout
        self.budget_end = time.monotonic() + notebook_timeout
        self.cell_deadline = self.budget_end
        self.run = TrustedRun()
        self.student: Channel | None = None
        self.student_gone: str | None = None
        self.current: int | None = None
        self.timed_out: set[int] = set()

    async def execute(self) -> TrustedRun:
        trusted = Channel(self.trusted_kernel, trusted_bootstrap())
        try:
            await self._conversation(trusted)
        finally:
            trusted.close()
            if self.student is not None:
                self.student.close()
        return self.run

    async def _conversation(self, trusted: Channel) -> None:
        while True:
            state, prompt = await trusted.next(self.budget_end)
            if state == "timeout":
                await trusted.interrupt()
                self.run.stopped = "the checks ran past the notebook's time limit"
                return
            if state != "input" or prompt is None:
                reason = trusted.failure() if state == "finished" else "the checking kernel died"
                self.run.stopped = reason
                return
            if prompt.startswith("event:"):
                reply = self._event(json.loads(prompt[6:]))
                if reply is None:
                    return
                trusted.answer(reply)
            elif prompt.startswith("rpc:"):
                asked = time.monotonic()
                reply = await self._to_student(prompt[4:])
                self.budget_end += time.monotonic() - asked  # waiting is not the checks' time
                trusted.answer(reply)
            else:
                trusted.answer("error:unknown request")

    def _event(self, event: dict[str, Any]) -> str | None:
        kind = event.get("event")
        if kind == "ready":
            return json.dumps(self.plan)
        if kind == "begin":
            self.current = event.get("index") if event.get("test") else None
            self.cell_deadline = time.monotonic() + self.cell_timeout
        elif kind == "cell":
            self._record(event)
        elif kind == "note":
            self.run.notes.append(f"cell {event.get('index', 0) + 1}: {event.get('error')}")
        elif kind == "finished":
            return None
        return "ok"

    def _record(self, event: dict[str, Any]) -> None:
        index = int(event["index"])
        status = str(event.get("status", "error"))
        evalue = event.get("evalue")
        if index in self.timed_out:
            status = "timeout"
            evalue = f"timed out after {self.cell_timeout:g} s"
        elif event.get("gone"):
            status = "gone"
        self.run.reports[index] = CheckReport(
            index=index,
            status=status,
            ename=event.get("ename"),
            evalue=evalue,
            hidden=bool(event.get("hidden")),
            stdout=str(event.get("stdout") or ""),
            stderr=str(event.get("stderr") or ""),
            display=event.get("display"),
            result=event.get("result"),
        )

    async def _to_student(self, message: str) -> str:
        """Deliver one message to the submission's kernel and return its next message."""
        if self.student_gone:
            return "error:" + self.student_gone
        channel = await self._student_channel()
        if channel is None:
            return "error:" + (self.student_gone or "the answers are not available")
        channel.answer(message)
        return await self._from_student(channel)

    async def _student_channel(self) -> Channel | None:
        if self.student is None:
            await self.student_ready.wait()
            self.cell_deadline = time.monotonic() + self.cell_timeout  # the wait was not the cell's
            self.student = Channel(self.student_kernel, student_bootstrap(self.plan["classes"]))
            # A healthy kernel answers in well under a second; one the answers broke (builtins
            # replaced, a stuck thread) is given the test cell's own time, at least a grace.
            wait = min(BOOTSTRAP_MAX_S, max(BOOTSTRAP_MIN_S, self.cell_timeout))
            state, _ = await self.student.next(time.monotonic() + wait)
            if state != "input":
                self.student_gone = "the answers' kernel could not serve the checks"
                return None
        return self.student

    async def _from_student(self, channel: Channel) -> str:
        state, prompt = await channel.next(self.cell_deadline)
        if state == "timeout":
            if self.current is not None:
                self.timed_out.add(self.current)
            await channel.interrupt()
            state, prompt = await channel.next(time.monotonic() + INTERRUPT_GRACE_S)
            if state != "input":
                self.student_gone = f"the answer did not finish within {self.cell_timeout:g} s"
                return "error:" + self.student_gone
            self.cell_deadline = time.monotonic() + INTERRUPT_GRACE_S  # time to report it
        if state != "input" or prompt is None:
            self.student_gone = "the answers' kernel stopped"
            return "error:" + self.student_gone
        if len(prompt) > MAX_MESSAGE:
            self.student_gone = "an answer returned more than 48 MB of data"
            return "error:" + self.student_gone
        return "rpc:" + prompt
