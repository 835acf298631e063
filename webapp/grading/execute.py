"""Execute a prepared notebook on a pooled kernel, cell by cell, with time and output limits."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from webapp.grading.pool import Kernel
from webapp.grading.sandbox import Sandbox

INTERRUPT_GRACE_S = 3.0
MAX_CELL_OUTPUT = 100_000  # characters of text (and bytes of binary) one cell may keep
MAX_CELL_OUTPUTS = 500
MAX_NOTEBOOK_OUTPUT = 2_000_000
ESSENTIAL_CHARS = 2_000  # of a result or an error kept past a cap
FREE_MESSAGES = frozenset({"status", "execute_input", "clear_output"})  # nothing of them is kept
OUTPUT_MESSAGES = frozenset({"stream", "display_data", "execute_result", "error"})
ESSENTIAL_MESSAGES = frozenset({"execute_result", "error"})  # scoring reads them
# Signals that none of the sandbox's limits sends (its memory limit is the cgroup's OOM killer,
# recorded as such; its CPU limit is SIGXCPU first): a kernel they end was stopped from outside,
# by an operator, the host's own OOM killer or a crashing host. Not the engineer's doing.
OUTSIDE_SIGNALS = frozenset({signal.SIGKILL, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT})


@dataclass(frozen=True)
class Outcome:
    """What happened to one code cell: ok, error, timeout, killed or skipped, with a reason."""

    state: str
    message: str | None = None


@dataclass
class Run:
    """Outcomes by cell index; ``stopped`` says why the kernel stopped early, if it did."""

    outcomes: dict[int, Outcome] = field(default_factory=dict)
    stopped: str | None = None
    outside: str | None = None  # the kernel was stopped from outside: why (see OUTSIDE_SIGNALS)


async def execute(
    nb: NotebookNode,
    kernel: Kernel,
    sandbox: Sandbox,
    *,
    cell_timeout: float,
    notebook_timeout: float,
    max_cell_output: int = MAX_CELL_OUTPUT,
    max_cell_outputs: int = MAX_CELL_OUTPUTS,
    max_notebook_output: int = MAX_NOTEBOOK_OUTPUT,
) -> Run:
    """Run every code cell in order; errors do not stop the run, a dead kernel does.

    Output past the caps (per cell: characters and number of outputs; per notebook: characters)
    is dropped as it arrives and a marker output says so.
    """
    client = CappedClient(
        nb,
        OutputBudget(max_cell_output, max_cell_outputs, max_notebook_output),
        km=kernel.km,
        timeout=int(cell_timeout),
        allow_errors=True,
        interrupt_on_timeout=False,
        raise_on_iopub_timeout=False,
        iopub_timeout=4,
        record_timing=False,
        on_cell_executed=_remember_reply,
    )
    client.kc = kernel.kc
    client.reset_execution_trackers()
    run = Run()
    deadline = time.monotonic() + notebook_timeout
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if run.stopped:
            run.outcomes[index] = Outcome("skipped", run.stopped)
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            run.stopped = f"notebook time limit ({notebook_timeout:g} s) reached"
            run.outcomes[index] = Outcome("skipped", run.stopped)
            continue
        limit = min(cell_timeout, remaining)
        run.outcomes[index] = await _run_cell(client, kernel, sandbox, cell, index, limit)
        if run.outcomes[index].state == "killed":
            run.outside = await stopped_from_outside(kernel, sandbox)
        if run.outcomes[index].state in ("timeout", "killed") and not await _responsive(kernel):
            run.stopped = f"the kernel stopped in cell {index + 1}"
        if run.outcomes[index].state == "timeout" and limit < cell_timeout:
            run.stopped = f"notebook time limit ({notebook_timeout:g} s) reached"
            run.outcomes[index] = Outcome("timeout", run.stopped)
    return run


@dataclass
class _CellUsage:
    chars: int = 0
    outputs: int = 0
    truncated: str | None = None  # why later output of the cell is dropped
    marked: bool = False
    essentials: set[str] = field(default_factory=set)  # kinds kept (shortened) past a cap


class OutputBudget:
    """How much output each cell and the whole notebook may still keep."""

    def __init__(self, cell_chars: int, cell_outputs: int, notebook_chars: int) -> None:
        self.cell_chars = cell_chars
        self.cell_outputs = cell_outputs
        self.notebook_chars = notebook_chars
        self._cells: dict[int, _CellUsage] = {}
        self._total = 0
        self._full: str | None = None  # why every later cell keeps nothing but essentials

    def admit(self, cell_index: int, msg_type: str, size: int, *, new_output: bool = True) -> bool:
        """Charge a message of ``size`` if it fits; ``truncated`` then says why it did not.
        ``new_output`` is False for text that joins the cell's last output (same stream).

        Once a message of a cell does not fit, no later one of that cell does (output stays in
        order); once the notebook is full, no later cell keeps any output.
        """
        usage = self._cells.setdefault(cell_index, _CellUsage())
        if usage.truncated:
            return False
        makes_output = new_output and msg_type in OUTPUT_MESSAGES
        usage.truncated = self._full or self._over(usage, size, makes_output)
        if usage.truncated:
            return False
        self.charge(cell_index, size, makes_output)
        return True

    def _over(self, usage: _CellUsage, size: int, makes_output: bool) -> str | None:
        if makes_output and usage.outputs >= self.cell_outputs:
            return f"the cell produced more than {self.cell_outputs} outputs"
        if usage.chars + size > self.cell_chars:
            return f"the cell printed more than {_amount(self.cell_chars)}"
        if self._total + size > self.notebook_chars:
            self._full = f"the notebook printed more than {_amount(self.notebook_chars)}"
            return self._full
        return None

    def charge(self, cell_index: int, size: int, makes_output: bool = True) -> None:
        usage = self._cells[cell_index]
        usage.chars += size
        usage.outputs += makes_output
        self._total += size

    def truncated(self, cell_index: int) -> str | None:
        return self._cells[cell_index].truncated

    def room(self, cell_index: int) -> int:
        """Characters the cell may still keep in one more output."""
        usage = self._cells[cell_index]
        if usage.outputs >= self.cell_outputs:
            return 0
        return max(0, min(self.cell_chars - usage.chars, self.notebook_chars - self._total))

    def first_drop(self, cell_index: int) -> bool:
        """True once per cell, at its first dropped message: time for the marker."""
        usage = self._cells[cell_index]
        first, usage.marked = not usage.marked, True
        return first

    def keep_essential(self, cell_index: int, msg_type: str) -> bool:
        """Whether a dropped result or error is kept shortened: the first of each kind per cell."""
        kept = self._cells[cell_index].essentials
        first = msg_type in ESSENTIAL_MESSAGES and msg_type not in kept
        kept.add(msg_type)
        return first


class CappedClient(NotebookClient):
    """A NotebookClient whose outputs stay within an OutputBudget, decided as messages arrive.

    A message past a cap is dropped before nbclient turns it into an output, so the grader's
    memory stays bounded however much a kernel prints; the stream message that crosses a cap
    keeps its head, then a marker says what was cut. A cell's first result and error are kept
    even past a cap, shortened: scoring reads partial credit and failures from them.
    """

    def __init__(self, nb: NotebookNode, budget: OutputBudget, **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self.budget = budget

    def process_message(
        self, msg: dict[str, Any], cell: NotebookNode, cell_index: int
    ) -> NotebookNode | None:
        msg_type = msg["msg_type"]
        if msg_type in FREE_MESSAGES:
            return super().process_message(msg, cell, cell_index)
        budget = self.budget
        size = message_size(msg, budget.cell_chars)
        if budget.admit(cell_index, msg_type, size, new_output=not self._joins(cell.outputs, msg)):
            return super().process_message(msg, cell, cell_index)
        if budget.first_drop(cell_index):
            self._cut(msg, cell, cell_index)
        if budget.keep_essential(cell_index, msg_type):
            return super().process_message(_shortened(msg), cell, cell_index)
        return None

    def output(
        self,
        outs: list[NotebookNode],
        msg: dict[str, Any],
        display_id: str | None,
        cell_index: int,
    ) -> NotebookNode | None:
        """As nbclient, except that text streamed to where the cell's last output went joins it,
        as Jupyter shows it: a ``print`` flushed in two pieces on a busy machine is one output."""
        if self._joins(outs, msg):
            outs[-1]["text"] += msg["content"]["text"]
            return outs[-1]
        return super().output(outs, msg, display_id, cell_index)

    def _joins(self, outs: list[NotebookNode], msg: dict[str, Any]) -> bool:
        """Whether ``msg`` is text for the stream the cell's last output already shows."""
        content = msg.get("content") or {}
        last = outs[-1] if outs else None
        return (
            msg["msg_type"] == "stream"
            and last is not None
            and last.get("output_type") == "stream"
            and last.get("name") == content.get("name")
            and isinstance(content.get("text"), str)
            and not self.clear_before_next_output
            and not self.output_hook_stack[str((msg.get("parent_header") or {}).get("msg_id"))]
        )

    def _cut(self, msg: dict[str, Any], cell: NotebookNode, cell_index: int) -> None:
        """Keep the head of the stream message that crossed the cap, then add the marker."""
        room = self.budget.room(cell_index)
        content = msg.get("content") or {}
        text = content.get("text")
        if msg["msg_type"] == "stream" and isinstance(text, str) and room > 0:
            head = text[:room]
            self.budget.charge(cell_index, len(head))
            kept = {"name": content.get("name"), "text": head}
            super().process_message({**msg, "content": kept}, cell, cell_index)
        cell.outputs.append(truncation_marker(self.budget.truncated(cell_index) or ""))


def message_size(msg: dict[str, Any], limit: int) -> int:
    """Characters of the strings in a message's content plus bytes of its buffers.

    Counting stops soon after ``limit``: a bigger message is dropped whatever its size.
    """
    size = sum(memoryview(buffer).nbytes for buffer in msg.get("buffers") or ())
    stack: list[Any] = [msg.get("content")]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        else:
            size += 8
    return size


def truncation_marker(reason: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stderr", text=f"[output truncated: {reason}]\n")


def _amount(chars: int) -> str:
    return f"{chars / 1e6:g} MB" if chars >= 1_000_000 else f"{chars / 1e3:g} kB"


def _shortened(msg: dict[str, Any]) -> dict[str, Any]:
    """A result with only a clipped text/plain, or an error with a clipped one-line traceback."""
    content = msg.get("content") or {}
    if msg["msg_type"] == "execute_result":
        data = content.get("data")
        plain = data.get("text/plain") if isinstance(data, dict) else None
        short = {
            "execution_count": content.get("execution_count"),
            "data": {"text/plain": _clip(plain)},
            "metadata": {},
        }
    else:
        ename, evalue = _clip(content.get("ename"), 200), _clip(content.get("evalue"))
        short = {"ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
    return {**msg, "content": short, "buffers": []}


def _clip(value: object, limit: int = ESSENTIAL_CHARS) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _remember_reply(cell: NotebookNode, cell_index: int, execute_reply: dict[str, Any]) -> None:
    cell.metadata["_reply_status"] = execute_reply.get("content", {}).get("status")


async def _run_cell(
    client: NotebookClient,
    kernel: Kernel,
    sandbox: Sandbox,
    cell: NotebookNode,
    index: int,
    limit: float,
) -> Outcome:
    client.timeout = max(1, int(limit + 0.999))
    try:
        await client.async_execute_cell(cell, index)
    except CellTimeoutError:
        message = f"timed out after {limit:g} s"
        cell.outputs.append(_error_output("TimeoutError", message))
        with contextlib.suppress(Exception):
            await kernel.km.interrupt_kernel()
        return Outcome("timeout", message)
    except DeadKernelError:
        reason = await _death_reason(kernel, sandbox)
        cell.outputs.append(_error_output("KernelDied", reason))
        return Outcome("killed", reason)
    status = cell.metadata.pop("_reply_status", None)
    errors = [o for o in cell.outputs if o.get("output_type") == "error"]
    if errors:
        return Outcome("error", _error_line(errors[-1]))
    if status == "error":  # a hidden traceback (nbgrader PR #1324): still an error
        cell.outputs.append(_error_output("Error", "the cell failed without showing an error"))
        return Outcome("error", "the cell failed without showing an error")
    return Outcome("ok")


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


def _error_line(output: NotebookNode) -> str:
    ename, evalue = output.get("ename", "Error"), str(output.get("evalue", ""))
    return f"{ename}: {evalue}"[:500] if evalue else ename


async def _responsive(kernel: Kernel) -> bool:
    """After an interrupt or a kill: does the kernel answer kernel_info within a grace period?"""
    if not await kernel.km.is_alive():
        return False
    msg_id = kernel.kc.kernel_info()
    end = time.monotonic() + INTERRUPT_GRACE_S
    while (remaining := end - time.monotonic()) > 0:
        try:
            reply = await kernel.kc.get_shell_msg(timeout=remaining)
        except Exception:  # queue.Empty on timeout
            return False
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return True
    return False


async def stopped_from_outside(kernel: Kernel, sandbox: Sandbox) -> str | None:
    """Why a dead kernel was stopped from outside, or None: alive, or ended by its own code or
    one of the sandbox's limits. A kernel's code that sends itself one of these signals is
    taken at its word too; it gains nothing by it (a stopped grade is run again, never scored)."""
    if await kernel.km.is_alive():
        return None
    if sandbox.cgroup and any(sandbox.cgroup.oom_killed(g) for g in kernel.slot.cgroups):
        return None
    code = kernel.km.returncode
    if code is None:
        return None
    number = -code if code < 0 else code - 128
    if number not in OUTSIDE_SIGNALS:
        return None
    return f"the kernel was stopped from outside ({signal.Signals(number).name})"


async def _death_reason(kernel: Kernel, sandbox: Sandbox) -> str:
    """Why the kernel died: memory cgroup OOM, CPU-time limit, or unknown."""
    await asyncio.sleep(0.05)
    if sandbox.cgroup and any(sandbox.cgroup.oom_killed(g) for g in kernel.slot.cgroups):
        return "killed: memory limit"
    code = kernel.km.returncode
    if code is not None and code in (-24, 128 + 24, 152):
        return "killed: CPU time limit"
    if code is not None and code in (-9, 128 + 9):
        return "killed: the kernel was terminated (CPU time, memory or process limit)"
    return f"the kernel died (exit status {code})"
