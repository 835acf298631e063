"""Execute a prepared notebook on a pooled kernel, cell by cell, with per-cell and total limits."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from webapp.grading.pool import Kernel
from webapp.grading.sandbox import Sandbox

INTERRUPT_GRACE_S = 3.0


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


async def execute(
    nb: NotebookNode,
    kernel: Kernel,
    sandbox: Sandbox,
    *,
    cell_timeout: float,
    notebook_timeout: float,
) -> Run:
    """Run every code cell in order; errors do not stop the run, a dead kernel does."""
    client = NotebookClient(
        nb,
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
        if run.outcomes[index].state in ("timeout", "killed") and not await _responsive(kernel):
            run.stopped = f"the kernel stopped in cell {index + 1}"
        if run.outcomes[index].state == "timeout" and limit < cell_timeout:
            run.stopped = f"notebook time limit ({notebook_timeout:g} s) reached"
            run.outcomes[index] = Outcome("timeout", run.stopped)
    return run


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
