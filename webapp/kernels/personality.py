"""Kernel Gateway's websocket personality plus one endpoint: the host's kernels and their memory.

Loaded with ``--KernelGatewayApp.api=webapp.kernels.personality``. The extra endpoint,
``GET /api/skillforge/host``, is token-protected like the rest of the gateway's API and feeds the
admin page (live kernels, memory, the pool) and the app's placement of new sessions.
"""

from __future__ import annotations

import json
import os
from typing import Any

from jupyter_server.utils import url_path_join
from kernel_gateway.jupyter_websocket import JupyterWebsocketPersonality
from kernel_gateway.mixins import JSONErrorsMixin, TokenAuthorizationMixin
from tornado import web

from webapp.grading.cgroups import pids_of_uid

from .host import KernelHost

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def kernel_memory(uid: int) -> int:
    """Resident memory of every process of a kernel's uid, in bytes."""
    total = 0
    for pid in pids_of_uid(uid):
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                total += int(fh.read().split()[1]) * PAGE_SIZE
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return total


def host_status(host: KernelHost, max_kernels: int | None) -> dict[str, Any]:
    kernels = []
    for kernel_id in list(host.list_kernel_ids()):
        kernel = host.get_kernel(kernel_id)
        slot = getattr(kernel.provisioner, "slot", None)
        last = getattr(kernel, "last_activity", None)
        kernels.append(
            {
                "id": kernel_id,
                "warm": host.is_warm(kernel_id),
                "state": getattr(kernel, "execution_state", "unknown"),
                "last_activity": last.isoformat() if last else None,
                "memory_bytes": kernel_memory(slot.uid) if slot is not None else 0,
            }
        )
    return {
        "pool_size": host.pool_size,
        "warm": host.warm_count,
        "max_kernels": max_kernels,
        "cull_idle_timeout": host.cull_idle_timeout,
        "sandbox": host.sandbox.backend,
        "kernels": kernels,
    }


class HostHandler(TokenAuthorizationMixin, JSONErrorsMixin, web.RequestHandler):  # type: ignore[misc]
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        settings = self.settings
        status = host_status(settings["kernel_manager"], settings.get("kg_max_kernels"))
        self.finish(json.dumps(status))


class SkillforgePersonality(JupyterWebsocketPersonality):  # type: ignore[misc]
    async def init_configurables(self) -> None:
        await super().init_configurables()
        self.parent.kernel_manager.fill_pool()

    def create_request_handlers(self) -> list[tuple[Any, ...]]:
        pattern = url_path_join("/", self.parent.base_url, "/api/skillforge/host")
        return [(pattern, HostHandler), *super().create_request_handlers()]


def create_personality(*args: Any, **kwargs: Any) -> SkillforgePersonality:
    return SkillforgePersonality(*args, **kwargs)
