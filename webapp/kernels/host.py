"""A kernel host: Kernel Gateway's kernel manager with a warm pool and the workshop's data files.

Configured with traitlets like any Jupyter application (``--KernelHost.pool_size=4``); the
``skillforge kernels host`` command sets them from the app's LIVE_* settings. Kernels are started
ahead (the pool), each importing the workshops' common modules while it waits; a request for a
kernel takes a warm one, copies the workshop's data files into its working directory and starts a
replacement. Warm kernels are never culled; claimed ones are culled by jupyter_server's own culler
(``--MappingKernelManager.cull_idle_timeout``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import resource
from functools import cached_property
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from jupyter_server._tz import utcnow
from kernel_gateway.services.kernels.manager import SeedingMappingKernelManager
from traitlets import Bool, Float, Integer, Unicode

from webapp.grading.autograde import GraderConfig, choose_backend
from webapp.grading.sandbox import Limits, Sandbox

from .names import KERNEL_NAME, WORKSHOP_ENV
from .provisioner import PROVISIONER_NAME

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
DEFAULT_WARM_UP = "import numpy, pandas, matplotlib.pyplot"


class SandboxKernelSpecManager(KernelSpecManager):  # type: ignore[misc]
    """One kernel spec, the sandboxed Python kernel; nothing found on the host's Jupyter path."""

    kernel_python = Unicode("/opt/skillforge/kernel/bin/python", config=True)

    def spec(self) -> KernelSpec:
        return KernelSpec(
            argv=[self.kernel_python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            language="python",
            display_name="Python (Skillforge sandbox)",
            # bwrap --new-session: a SIGINT to the process group would not reach the kernel.
            interrupt_mode="message",
            metadata={"kernel_provisioner": {"provisioner_name": PROVISIONER_NAME}},
        )

    def find_kernel_specs(self) -> dict[str, str]:
        return {KERNEL_NAME: ""}

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name != KERNEL_NAME:
            raise NoSuchKernel(kernel_name)
        return self.spec()

    def get_all_specs(self) -> dict[str, Any]:
        return {KERNEL_NAME: {"resource_dir": "", "spec": self.spec().to_dict()}}


class KernelHost(SeedingMappingKernelManager):  # type: ignore[misc]
    """The host's kernels: sandboxed, pooled, with workshop data."""

    kernel_python = Unicode("/opt/skillforge/kernel/bin/python", config=True)
    courses_dir = Unicode("courses", config=True, help="The course folders (data files).")
    pool_size = Integer(2, config=True, help="Kernels kept started and waiting.")
    warm_up = Unicode(DEFAULT_WARM_UP, config=True, help="Code a waiting kernel runs.")
    memory_mb = Integer(2048, config=True)
    cpu_cores = Float(1.0, config=True)
    allow_unsandboxed = Bool(False, config=True)
    run_root = Unicode("", config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _raise_socket_limits(self.context)  # the context every kernel's channels share
        self._warm: list[str] = []
        self._filling: set[asyncio.Task[None]] = set()

    @cached_property
    def sandbox(self) -> Sandbox:
        config = GraderConfig(
            kernel_python=self.kernel_python,
            memory_mb=self.memory_mb,
            cpu_cores=self.cpu_cores,
            allow_unsandboxed=self.allow_unsandboxed,
            run_root=self.run_root or None,
        )
        limits = Limits(config.memory_mb, cpu_seconds=24 * 3600, cpu_cores=config.cpu_cores)
        return Sandbox(choose_backend(config), self.kernel_python, limits, config.run_root)

    # --- the pool --------------------------------------------------------------------------

    @property
    def warm_count(self) -> int:
        return len(self._warm)

    def is_warm(self, kernel_id: str) -> bool:
        return kernel_id in self._warm

    def fill_pool(self) -> None:
        """Start kernels until ``pool_size`` are warm or starting."""
        missing = self.pool_size - len(self._warm) - len(self._filling)
        for _ in range(max(0, missing)):
            task = asyncio.get_running_loop().create_task(self._start_warm())
            self._filling.add(task)
            task.add_done_callback(self._filling.discard)

    async def _start_warm(self) -> None:
        """Start one warm kernel, trying again every 5 s until one starts and warms up."""
        while True:
            kernel_id = None
            try:
                kernel_id = await super().start_kernel(kernel_name=KERNEL_NAME)
                await self._run_quietly(kernel_id, self.warm_up)
            except Exception:
                self.log.exception("A warm kernel failed to start; trying again in 5 s")
                if kernel_id is not None and kernel_id in self:
                    with contextlib.suppress(Exception):
                        await self.shutdown_kernel(kernel_id, now=True)
                await asyncio.sleep(5)
                continue
            self._warm.append(kernel_id)
            return

    async def _run_quietly(self, kernel_id: str, code: str, timeout: float = 120) -> None:
        client = self.get_kernel(kernel_id).client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=timeout)
            if code:
                await client.execute_interactive(code, silent=True, timeout=timeout)
        finally:
            client.stop_channels()

    # --- handing out kernels ---------------------------------------------------------------------

    async def start_kernel(  # type: ignore[override]
        self, *, kernel_id: str | None = None, path: Any = None, **kwargs: Any
    ) -> str:
        """A kernel for one engineer and notebook: a warm one when there is one."""
        env = kwargs.pop("env", None) or {}
        if kernel_id is not None and kernel_id in self:
            return kernel_id
        if self._warm and kernel_id is None:
            kernel_id = self._warm.pop(0)
        else:
            kernel_id = await super().start_kernel(kernel_name=KERNEL_NAME, kernel_id=kernel_id)
        self.fill_pool()
        await self._provide_data(kernel_id, str(env.get(WORKSHOP_ENV, "")))
        self.get_kernel(kernel_id).last_activity = utcnow()
        return kernel_id

    async def _provide_data(self, kernel_id: str, workshop: str) -> None:
        if not SLUG_RE.match(workshop):
            return
        folder = Path(self.courses_dir) / workshop
        slot = self.get_kernel(kernel_id).provisioner.slot
        if folder.is_dir() and slot is not None:
            await asyncio.to_thread(self.sandbox.copy_data, slot, folder)

    def kernel_model(self, kernel_id: str) -> dict[str, Any]:
        """jupyter_server's model of a kernel, also of one still starting. A starting kernel (a
        pool refill) is in the manager's table a moment before jupyter_server marks its activity,
        and jupyter_server's own model then raises AttributeError: the gateway's POST
        /api/kernels, which lists every kernel to count them, failed with a 500."""
        self._check_kernel_id(kernel_id)  # a 404 for an unknown kernel
        kernel = self.get_kernel(kernel_id)
        if not hasattr(kernel, "last_activity"):
            return {
                "id": kernel_id,
                "name": kernel.kernel_name,
                "last_activity": None,
                "execution_state": "starting",
                "connections": 0,
            }
        return dict(super().kernel_model(kernel_id))

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        if kernel_id not in self._warm:
            await super().cull_kernel_if_idle(kernel_id)

    def remove_kernel(self, kernel_id: str) -> Any:
        with contextlib.suppress(ValueError):
            self._warm.remove(kernel_id)
        return super().remove_kernel(kernel_id)


MAX_ZMQ_SOCKETS = 65536


def _raise_socket_limits(context: zmq.Context[Any]) -> None:
    """Room for many kernels: every websocket to a kernel holds a few ZMQ sockets (libzmq allows
    1,023 per context by default) and each socket a few file descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    context.set(zmq.MAX_SOCKETS, MAX_ZMQ_SOCKETS)
