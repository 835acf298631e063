"""The kernel provisioner a Kernel Gateway host launches every live kernel with.

jupyter_client's documented extension point for *how* a kernel starts: the local provisioner's
launch, wrapped in the grading sandbox (own uid, no network, limits, scrubbed environment) and
talking over ZMQ ipc sockets in the kernel's own slot directory. A restart keeps the slot (its
files), a shutdown destroys it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

from webapp.grading.cgroups import kill_uid
from webapp.grading.sandbox import UNSANDBOXED, Sandbox, Slot

PROVISIONER_NAME = "skillforge-sandbox"


class SandboxProvisioner(LocalProvisioner):  # type: ignore[misc]
    """Launches the kernel inside the host's :class:`Sandbox` (see ``host.KernelHost``)."""

    slot: Slot | None = None

    @property
    def _km(self) -> Any:
        assert self.parent is not None, "a provisioner always belongs to a kernel manager"
        return self.parent

    @property
    def sandbox(self) -> Sandbox:
        # parent: the kernel's manager; its parent: the host's mapping kernel manager.
        host = self._km.parent
        sandbox: Sandbox = host.sandbox
        return sandbox

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        sandbox = self.sandbox
        if self.slot is None:
            self.slot = await asyncio.to_thread(sandbox.new_slot)
        km = self._km
        km.transport = "ipc"
        km.cache_ports = False
        km.connection_file = str(self.slot.conn_dir / "kernel.json")
        km.ip = str(self.slot.conn_dir / "kernel")
        kwargs = await super().pre_launch(**kwargs)
        if sandbox.backend != UNSANDBOXED:
            os.chown(km.connection_file, self.slot.uid, self.slot.uid)
        env = sandbox.environment(self.slot)
        env.pop("NBGRADER_EXECUTION", None)  # a live kernel is the engineer's own, not the grader's
        kwargs["env"] = env
        kwargs["cwd"] = str(self.slot.work_dir)
        kwargs["cmd"] = sandbox.command(self.slot, kwargs["cmd"])
        return kwargs

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        kwargs.setdefault("stdout", asyncio.subprocess.DEVNULL)
        kwargs.setdefault("stderr", asyncio.subprocess.DEVNULL)
        return await super().launch_kernel(cmd, **kwargs)

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        slot = self.slot
        if slot is None:
            return
        if restart:
            # What the old kernel left running (a child it forked) goes; its files stay.
            if self.sandbox.backend != UNSANDBOXED:
                await asyncio.to_thread(kill_uid, slot.uid)
            return
        self.slot = None
        await asyncio.to_thread(self.sandbox.destroy, slot, None)

    async def kill(self, restart: bool = False) -> None:
        with contextlib.suppress(OSError):
            await super().kill(restart=restart)
