"""Kernel Gateway's websocket personality plus one endpoint: the host's kernels and their memory.

Loaded with ``--KernelGatewayApp.api=webapp.kernels.personality``. The extra endpoint,
``GET /api/skillforge/host``, is token-protected like the rest of the gateway's API and feeds the
admin page (live kernels, memory, the pool) and the app's placement of new sessions.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Collection
from typing import Any

from jupyter_server.utils import url_path_join
from kernel_gateway.jupyter_websocket import JupyterWebsocketPersonality
from kernel_gateway.mixins import JSONErrorsMixin, TokenAuthorizationMixin
from tornado import web, websocket

from webapp.grading.cgroups import pids_by_uid

from .host import KernelHost

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def memory_by_uid(uids: Collection[int]) -> dict[int, int]:
    """Resident memory of every process of each kernel uid, in bytes."""
    totals = {}
    for uid, pids in pids_by_uid(uids).items():
        total = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                    total += int(fh.read().split()[1]) * PAGE_SIZE
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
        totals[uid] = total
    return totals


def host_kernels(host: KernelHost) -> list[tuple[dict[str, Any], int | None]]:
    """Each kernel as the status shows it (without its memory), with its sandbox uid."""
    kernels = []
    for kernel_id in list(host.list_kernel_ids()):
        kernel = host.get_kernel(kernel_id)
        slot = getattr(kernel.provisioner, "slot", None)
        last = getattr(kernel, "last_activity", None)
        shown = {
            "id": kernel_id,
            "warm": host.is_warm(kernel_id),
            "state": getattr(kernel, "execution_state", "unknown"),
            "last_activity": last.isoformat() if last else None,
        }
        kernels.append((shown, slot.uid if slot is not None else None))
    return kernels


def host_status(
    host: KernelHost, max_kernels: int | None, kernels: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "pool_size": host.pool_size,
        "warm": host.warm_count,
        "max_kernels": max_kernels,
        "cull_idle_timeout": host.cull_idle_timeout,
        "sandbox": host.sandbox.backend,
        "kernels": kernels,
    }


class HostHandler(TokenAuthorizationMixin, JSONErrorsMixin, web.RequestHandler):  # type: ignore[misc]
    async def get(self) -> None:
        """The kernels are read on the event loop (the manager's state lives there); their memory,
        a pass over /proc, in a thread, so the host's kernels' traffic never waits for it."""
        host = self.settings["kernel_manager"]
        listed = host_kernels(host)
        uids = {uid for _shown, uid in listed if uid is not None}
        memory = await asyncio.to_thread(memory_by_uid, uids)
        kernels = [
            {**shown, "memory_bytes": memory.get(uid, 0) if uid is not None else 0}
            for shown, uid in listed
        ]
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(host_status(host, self.settings.get("kg_max_kernels"), kernels)))


class SkillforgePersonality(JupyterWebsocketPersonality):  # type: ignore[misc]
    async def init_configurables(self) -> None:
        await super().init_configurables()
        self.parent.kernel_manager.fill_pool()

    def create_request_handlers(self) -> list[tuple[Any, ...]]:
        pattern = url_path_join("/", self.parent.base_url, "/api/skillforge/host")
        handlers = [
            (path, _without_nagle(cls), *rest)
            if isinstance(cls, type) and issubclass(cls, websocket.WebSocketHandler)
            else (path, cls, *rest)
            for path, cls, *rest in super().create_request_handlers()
        ]
        return [(pattern, HostHandler), *handlers]


def _without_nagle(handler: type[websocket.WebSocketHandler]) -> type[websocket.WebSocketHandler]:
    """The kernel channels' websocket handler with TCP_NODELAY: a cell's reply is a burst of small
    messages, and with Nagle's algorithm each after the first waits for the client's delayed ACK."""

    async def open(self: websocket.WebSocketHandler, *args: Any, **kwargs: Any) -> None:
        self.set_nodelay(True)
        opened = handler.open(self, *args, **kwargs)
        if opened is not None:
            await opened

    return type(handler.__name__, (handler,), {"open": open})


def create_personality(*args: Any, **kwargs: Any) -> SkillforgePersonality:
    return SkillforgePersonality(*args, **kwargs)
