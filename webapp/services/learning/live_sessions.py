"""Live kernels: one per engineer and notebook, placed on a kernel host, found only by their owner.

The row in ``live_kernels`` is the binding between an engineer and a kernel; every request finds
the kernel by (engineer, notebook), never by a kernel id from the browser, so no one can attach to,
run code in or read the outputs of someone else's kernel. Rows outlive the web processes; a host
that culled or lost a kernel says so (KernelGone) and the row goes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.db import Session
from webapp.kernels.client import GatewayClient, Host, HostFull, HostUnavailable, KernelGone
from webapp.models import LiveKernel, Notebook, User
from webapp.services.errors import Conflict, Unavailable
from webapp.services.words import count


@dataclass(frozen=True)
class LiveSettings:
    hosts: tuple[str, ...] = ("http://127.0.0.1:8890",)
    token: str = ""
    per_engineer: int = 3
    per_host: int = 50
    pool_size: int = 2
    idle_minutes: int = 30
    cell_max_s: float = 600.0
    memory_mb: int = 2048
    warm_up: str | None = None


class NoKernel(Conflict):
    """The engineer has no running kernel for this notebook (never started, culled, or lost)."""


def client(settings: LiveSettings, host: str) -> GatewayClient:
    return GatewayClient(Host(host, settings.token))


def find(session: Session, *, user_id: int, notebook_id: int) -> LiveKernel | None:
    return session.scalar(
        select(LiveKernel).where(
            LiveKernel.user_id == user_id, LiveKernel.notebook_id == notebook_id
        )
    )


def gone_message(settings: LiveSettings) -> str:
    return (
        "Your kernel has stopped: kernels stop after "
        f"{count(settings.idle_minutes, 'minute')} without use, or when their host restarts. "
        "Start a new one to run cells again; your answers are kept."
    )


def require(
    session: Session, *, user_id: int, notebook_id: int, settings: LiveSettings
) -> LiveKernel:
    """The engineer's kernel for the notebook; raises NoKernel."""
    row = find(session, user_id=user_id, notebook_id=notebook_id)
    if row is None:
        raise NoKernel("Start the kernel first (the Start button above the notebook).")
    return row


def open_kernel(
    session: Session, *, user: User, notebook_id: int, workshop_slug: str, settings: LiveSettings
) -> tuple[LiveKernel, bool]:
    """The engineer's kernel for the notebook, started when there is none: (row, started now).

    Raises Conflict (too many kernels), Unavailable (no host can take one).
    """
    row = find(session, user_id=user.id, notebook_id=notebook_id)
    if row is not None:
        try:
            client(settings, row.host).kernel(row.kernel_id)
            return row, False
        except KernelGone:
            forget(session, row)
        except HostUnavailable as exc:
            raise Unavailable(host_down(settings)) from exc
    _check_engineer_limit(session, user_id=user.id, settings=settings)
    host, kernel_id = _place(session, workshop_slug, settings)
    row = LiveKernel(user_id=user.id, notebook_id=notebook_id, host=host, kernel_id=kernel_id)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another tab started one at the same moment: keep theirs, stop ours.
        client(settings, host).shutdown(kernel_id)
        winner = find(session, user_id=user.id, notebook_id=notebook_id)
        if winner is None:
            raise
        return winner, False
    return row, True


def _check_engineer_limit(session: Session, *, user_id: int, settings: LiveSettings) -> None:
    titles = session.scalars(
        select(Notebook.title)
        .join(LiveKernel, LiveKernel.notebook_id == Notebook.id)
        .where(LiveKernel.user_id == user_id)
        .order_by(LiveKernel.last_used_at)
    ).all()
    if len(titles) >= settings.per_engineer:
        raise Conflict(
            f"You already have {count(len(titles), 'kernel')} running (the most an engineer may "
            f"have): {', '.join(titles)}. Stop one from its notebook page, then start this one."
        )


def _place(session: Session, workshop_slug: str, settings: LiveSettings) -> tuple[str, str]:
    """Start a kernel on the least loaded host that answers and has room."""
    if not settings.hosts:
        raise Unavailable(
            "Live kernels are not set up here (no kernel host is configured): ask your Skillforge "
            "admin. You can still download the notebook, and Submit grades your answers."
        )
    loads = dict(
        session.execute(select(LiveKernel.host, func.count()).group_by(LiveKernel.host)).all()
    )
    hosts = sorted(settings.hosts, key=lambda h: loads.get(h, 0))
    full = 0
    for host in hosts:
        if loads.get(host, 0) >= settings.per_host:
            full += 1
            continue
        try:
            return host, client(settings, host).start_kernel(workshop_slug)
        except HostFull:
            full += 1
        except HostUnavailable:
            continue
    if full == len(hosts):
        raise Unavailable(
            "Every kernel host runs as many kernels as it may. Try again in a few minutes "
            "(idle kernels stop by themselves); Submit still grades your answers meanwhile."
        )
    raise Unavailable(host_down(settings))


def host_down(settings: LiveSettings) -> str:
    return (
        "The kernel host is not answering. Try again in a minute; if it keeps failing, tell "
        "your Skillforge admin (the Grading page shows the hosts). Submit still grades answers."
    )


def forget(session: Session, row: LiveKernel) -> None:
    session.delete(row)
    session.flush()


def stop(session: Session, row: LiveKernel, settings: LiveSettings) -> None:
    """Shut the kernel down on its host (if the host answers) and forget it."""
    gateway = client(settings, row.host)
    gateway.forget(row.kernel_id)
    with contextlib.suppress(HostUnavailable):  # a host that is down took its kernels with it
        gateway.shutdown(row.kernel_id)
    forget(session, row)


# A kernel's last use orders the engineer's kernels and shows on the admin page, to the minute (the
# host culls idle kernels by its own clock). Writing it for every cell would make each run a
# database write and commit; once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)


def touch(row: LiveKernel, now: datetime) -> bool:
    """Note that the engineer used the kernel at ``now``, unless that was noted less than
    TOUCH_EVERY before; True when the row changed."""
    if now - row.last_used_at < TOUCH_EVERY:
        return False
    row.last_used_at = now
    return True


def execute(row: LiveKernel, code: str, settings: LiveSettings) -> Iterator[dict[str, Any]]:
    """The kernel's messages for ``code`` (see GatewayClient.execute); raises KernelGone,
    HostUnavailable while running."""
    return client(settings, row.host).execute(row.kernel_id, code, max_seconds=settings.cell_max_s)


def control(session: Session, row: LiveKernel, action: str, settings: LiveSettings) -> None:
    """``interrupt`` or ``restart`` the kernel; raises NoKernel when it is gone."""
    gateway = client(settings, row.host)
    try:
        if action == "interrupt":
            gateway.interrupt(row.kernel_id)
        else:
            gateway.restart(row.kernel_id)
    except KernelGone as exc:
        forget(session, row)
        raise NoKernel(gone_message(settings)) from exc
    except HostUnavailable as exc:
        raise Unavailable(host_down(settings)) from exc


@dataclass(frozen=True)
class HostRow:
    url: str
    answering: bool
    problem: str = ""
    in_use: int = 0
    warm: int = 0
    pool_size: int = 0
    memory_mb: float = 0.0
    sandbox: str = ""


@dataclass(frozen=True)
class KernelRow:
    engineer: str
    notebook: str
    host: str
    started_at: datetime
    last_used_at: datetime
    state: str
    memory_mb: float | None


def overview(session: Session, settings: LiveSettings) -> tuple[list[HostRow], list[KernelRow]]:
    """Each configured host as it answers now, and every engineer's kernel with its memory."""
    hosts: list[HostRow] = []
    on_host: dict[str, dict[str, Any]] = {}
    for url in settings.hosts:
        try:
            status = GatewayClient(Host(url, settings.token), timeout=3).status()
        except HostUnavailable as exc:
            hosts.append(HostRow(url, False, str(exc)))
            continue
        kernels = status["kernels"]
        on_host.update({k["id"]: k for k in kernels})
        hosts.append(
            HostRow(
                url,
                True,
                in_use=sum(1 for k in kernels if not k["warm"]),
                warm=int(status["warm"]),
                pool_size=int(status["pool_size"]),
                memory_mb=sum(k["memory_bytes"] for k in kernels) / 2**20,
                sandbox=str(status["sandbox"]),
            )
        )
    rows = session.execute(
        select(User.display_name, Notebook.title, LiveKernel)
        .join(User, User.id == LiveKernel.user_id)
        .join(Notebook, Notebook.id == LiveKernel.notebook_id)
        .order_by(LiveKernel.last_used_at.desc())
    ).all()
    kernels = []
    for name, title, row in rows:
        known = on_host.get(row.kernel_id)
        memory = known["memory_bytes"] / 2**20 if known else None
        state = known["state"] if known else "not on its host (culled or host down)"
        kernels.append(
            KernelRow(name, title, row.host, row.started_at, row.last_used_at, state, memory)
        )
    return hosts, kernels
