"""Warm pool of sandboxed kernels: each serves exactly one submission, then is destroyed.

The pool runs its own asyncio loop in a background thread, so synchronous callers (a queue
worker, the CLI) use it from any thread through ``run``. A replacement kernel starts at every
acquire, and kernels are destroyed in the background, off the result path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec

from webapp.grading.sandbox import UNSANDBOXED, Sandbox, Slot

log = logging.getLogger(__name__)
T = TypeVar("T")


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs inside ``sandbox`` with ipc transport in ``slot``."""

    def __init__(self, sandbox: Sandbox, slot: Slot, **kwargs: Any) -> None:
        connection_file = str(slot.conn_dir / "kernel.json")
        super().__init__(transport="ipc", connection_file=connection_file, **kwargs)
        self.sandbox = sandbox
        self.slot = slot
        self._kernel_spec = KernelSpec(
            # One-shot kernels keep no input history (IPython would open an SQLite file for it).
            argv=[
                sandbox.kernel_python,
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
                "--HistoryManager.enabled=False",
            ],
            language="python",
            display_name="Skillforge sandbox",
            interrupt_mode="message",  # bwrap --new-session: SIGINT would not reach the kernel
        )

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        if self.sandbox.backend != UNSANDBOXED:
            os.chown(self.connection_file, self.slot.uid, self.slot.uid)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return self.sandbox.command(self.slot, super().format_kernel_cmd(extra_arguments))

    @property
    def pgid(self) -> int | None:
        return getattr(self.provisioner, "pgid", None)

    @property
    def returncode(self) -> int | None:
        process = getattr(self.provisioner, "process", None)
        return process.returncode if process is not None else None


@dataclass
class Kernel:
    """A started, ready kernel and its client."""

    km: SandboxedKernelManager
    kc: AsyncKernelClient

    @property
    def slot(self) -> Slot:
        return self.km.slot


# Imported while the kernel waits in the pool, off the result path: what nearly every workshop and
# both sides of the grader's checks import first. Nothing else runs before a submission. It buys
# latency, not throughput (about 1.8 s of CPU per kernel that a notebook using these modules would
# spend anyway); a grader of small notebooks (the test suite) is quicker with LEAN_WARM_UP.
WARM_UP = "import msgpack, numpy, pandas, pyarrow, matplotlib.pyplot, skops.io"
LEAN_WARM_UP = "import msgpack, numpy"  # what the bridge between the kernels always needs


async def _warm_up(kc: AsyncKernelClient, code: str, timeout: float) -> None:
    msg_id = kc.execute(code, silent=True, store_history=False)
    end = asyncio.get_running_loop().time() + timeout
    while (remaining := end - asyncio.get_running_loop().time()) > 0:
        reply = await kc.get_shell_msg(timeout=remaining)
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return
    raise TimeoutError("the kernel did not finish its warm-up")


class KernelPool:
    """Keeps ``size`` sandboxed kernels started and ready."""

    def __init__(
        self,
        sandbox: Sandbox,
        size: int = 2,
        startup_timeout: float = 60,
        warm_up: str = WARM_UP,
    ) -> None:
        self.sandbox = sandbox
        self.size = max(1, size)
        self.warm_up = warm_up
        self.startup_timeout = startup_timeout
        self.last_error: str | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kernel-pool")
        self._thread.daemon = True
        self._thread.start()
        self._ready: asyncio.Queue[Kernel] = self.run(self._make_queue())
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        for _ in range(self.size):
            self._loop.call_soon_threadsafe(self._spawn)

    async def _make_queue(self) -> asyncio.Queue[Kernel]:
        return asyncio.Queue()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the pool's loop from any other thread and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _background(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _spawn(self) -> None:
        if not self._closed:
            self._background(self._start_into_queue())

    async def _start_into_queue(self) -> None:
        try:
            kernel = await self.start_kernel()
        except Exception as exc:  # logged; acquire() reports it when no kernel comes
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("sandboxed kernel failed to start")
            await asyncio.sleep(1)
            self._spawn()
            return
        if self._closed:
            await self.destroy(kernel)
        else:
            self._ready.put_nowait(kernel)

    async def start_kernel(self) -> Kernel:
        """Start one sandboxed kernel and wait until it answers."""
        slot = self.sandbox.new_slot()
        km = SandboxedKernelManager(self.sandbox, slot)
        kc: AsyncKernelClient | None = None
        try:
            await km.start_kernel(
                env=self.sandbox.environment(slot),
                cwd=str(slot.work_dir),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            kc = km.client()
            kc.start_channels()
            await kc.wait_for_ready(timeout=self.startup_timeout)
            await _warm_up(kc, self.warm_up, self.startup_timeout)
        except BaseException:
            if kc is not None:
                kc.stop_channels()
            await self._teardown(km)
            raise
        return Kernel(km, kc)

    async def acquire(self, timeout: float = 120) -> Kernel:
        """A ready kernel for one submission; a replacement starts at once."""
        while True:
            try:
                kernel = await asyncio.wait_for(self._ready.get(), timeout)
            except TimeoutError:
                reason = self.last_error or "no kernel became ready"
                raise RuntimeError(f"no sandboxed kernel available: {reason}") from None
            self._spawn()
            if await kernel.km.is_alive():
                return kernel
            self._background(self.destroy(kernel))

    def release(self, kernel: Kernel) -> None:
        """Destroy ``kernel`` in the background (call from the pool's loop)."""
        self._background(self.destroy(kernel))

    async def destroy(self, kernel: Kernel) -> None:
        with contextlib.suppress(Exception):
            kernel.kc.stop_channels()
        await self._teardown(kernel.km)

    async def _teardown(self, km: SandboxedKernelManager) -> None:
        process = getattr(km.provisioner, "process", None)
        if process is not None and process.poll() is None:
            # Only while the leader is unreaped is its pid (= its group id) surely still ours.
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(km.shutdown_kernel(now=True), 10)
        with contextlib.suppress(Exception):
            km._close_control_socket()  # left open when shutdown failed half-way
        await asyncio.to_thread(self.sandbox.destroy, km.slot, None)

    def close(self) -> None:
        """Destroy every kernel, wait for background clean-up, stop the loop."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self.run(self._drain(), timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        while not self._ready.empty():
            await self.destroy(self._ready.get_nowait())
