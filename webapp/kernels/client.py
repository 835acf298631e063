"""Talking to a kernel host: Kernel Gateway's REST API and its Jupyter websocket channels.

Messages are built and signed by jupyter_client's own ``Session`` (the gateway re-signs them for
the kernel); nothing here invents a protocol. Synchronous, so a web request can stream a cell's
outputs as they arrive.
"""

from __future__ import annotations

import contextlib
import json
import select
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
import websocket
from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session

from .names import KERNEL_NAME, WORKSHOP_ENV

OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error", "update_display_data"}
OUTPUT_TYPES_ALL = OUTPUT_TYPES | {"clear_output"}


class HostUnavailable(RuntimeError):
    """The kernel host did not answer (down, restarting, or refusing our token)."""


class KernelGone(RuntimeError):
    """The host has no such kernel: it was culled, shut down, or the host restarted."""


class HostFull(RuntimeError):
    """The host refused a new kernel: it runs as many as it may."""


@dataclass(frozen=True)
class Host:
    url: str  # http://127.0.0.1:8890
    token: str

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")


_local = threading.local()


def _http() -> requests.Session:
    session: requests.Session | None = getattr(_local, "http", None)
    if session is None:
        session = _local.http = requests.Session()
    return session


class GatewayClient:
    """One host's kernels, for the app."""

    def __init__(self, host: Host, timeout: float = 30) -> None:
        self.host = host
        self.timeout = timeout

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.host.token}"}
        kwargs.setdefault("timeout", self.timeout)
        try:
            response = _http().request(method, self.host.url + path, headers=headers, **kwargs)
        except requests.RequestException as exc:
            raise HostUnavailable(f"kernel host {self.host.url} unreachable: {exc}") from exc
        if response.status_code == 404 and path.startswith("/api/kernels/"):
            raise KernelGone(path.split("/")[3])
        if response.status_code == 403 and "max" in response.text.lower():
            raise HostFull(self.host.url)
        if response.status_code >= 400:
            raise HostUnavailable(f"kernel host {self.host.url}: HTTP {response.status_code}")
        return response

    def start_kernel(self, workshop: str) -> str:
        """A new kernel (warm from the host's pool when it has one) with the workshop's data."""
        body = {"name": KERNEL_NAME, "env": {WORKSHOP_ENV: workshop}}
        return str(self._request("POST", "/api/kernels", json=body).json()["id"])

    def kernel(self, kernel_id: str) -> dict[str, Any]:
        """``{"id", "execution_state", "last_activity", "connections"}``; raises KernelGone."""
        return dict(self._request("GET", f"/api/kernels/{kernel_id}").json())

    def interrupt(self, kernel_id: str) -> None:
        self._request("POST", f"/api/kernels/{kernel_id}/interrupt")

    def restart(self, kernel_id: str) -> None:
        """Restart the kernel; this process's next cell for it opens a new websocket.

        The kept websocket's ZMQ sockets reconnect to the new kernel by themselves, but its iopub
        subscription may rejoin only after a cell sent at once has begun publishing, and those
        outputs would be lost. A new websocket opens once the host has seen iopub flow ("nudge").
        """
        self._request("POST", f"/api/kernels/{kernel_id}/restart")
        self._retire(kernel_id)

    def shutdown(self, kernel_id: str) -> None:
        with contextlib.suppress(KernelGone):
            self._request("DELETE", f"/api/kernels/{kernel_id}")

    def status(self, timeout: float = 5) -> dict[str, Any]:
        """The host's pool and kernels with their memory (``/api/skillforge/host``)."""
        return dict(self._request("GET", "/api/skillforge/host", timeout=timeout).json())

    def execute(
        self, kernel_id: str, code: str, *, max_seconds: float = 600
    ) -> Iterator[dict[str, Any]]:
        """Run ``code``; yield its iopub messages and, last, the ``execute_reply``.

        Ends early (after a ``{"msg_type": "kernel_restarted"}`` item) when the kernel died and the
        host restarted it. One websocket per kernel and process is kept open between cells (its
        opening costs more than a small cell); requests to one kernel take turns on it.
        Raises KernelGone, HostUnavailable.
        """
        channel = self._channel(kernel_id)
        with channel.lock:
            if channel.stale or not channel.still_open():
                channel = self._reconnect(kernel_id, channel)
            try:
                channel.send_execute(code)
            except (OSError, websocket.WebSocketException):
                channel = self._reconnect(kernel_id, channel)
                channel.send_execute(code)
            try:
                for msg in channel.replies(max_seconds):
                    if msg["msg_type"] == "kernel_restarted":
                        channel.stale = True  # as after restart()
                    yield msg
            except HostUnavailable:
                self._drop(kernel_id, channel)
                self.kernel(kernel_id)  # KernelGone when that is why the connection closed
                raise

    def _channel(self, kernel_id: str) -> _Channel:
        key = (self.host.url, kernel_id)
        with _channels_lock:
            channel = _channels.get(key)
            if channel is not None:
                _channels.move_to_end(key)  # the least recently used are closed first
        if channel is not None:
            return channel
        self.kernel(kernel_id)  # a clear KernelGone rather than a websocket error
        channel = _Channel(self._connect(kernel_id))
        with _channels_lock:
            kept = _channels.setdefault(key, channel)
            _channels.move_to_end(key)
            idle = [k for k, c in _channels.items() if not c.lock.locked()]
            stale = [_channels.pop(k) for k in idle[: max(0, len(_channels) - MAX_CHANNELS)]]
        for old in stale:
            old.close()  # the least recently used: reopened when next needed
        if kept is not channel:
            channel.close()
        return kept

    def _reconnect(self, kernel_id: str, stale: _Channel) -> _Channel:
        self._drop(kernel_id, stale)
        self.kernel(kernel_id)
        stale.ws = self._connect(kernel_id)
        stale.stale = False
        with _channels_lock:
            _channels[(self.host.url, kernel_id)] = stale
        return stale

    def _drop(self, kernel_id: str, channel: _Channel) -> None:
        with _channels_lock:
            if _channels.get((self.host.url, kernel_id)) is channel:
                del _channels[(self.host.url, kernel_id)]
        channel.close()

    def _retire(self, kernel_id: str) -> None:
        """Have the next cell open a new websocket (a cell running now keeps the old one)."""
        with _channels_lock:
            channel = _channels.get((self.host.url, kernel_id))
        if channel is not None:
            channel.stale = True

    def forget(self, kernel_id: str) -> None:
        """Close this process's connection to a kernel that is being shut down."""
        with _channels_lock:
            channel = _channels.pop((self.host.url, kernel_id), None)
        if channel is not None:
            channel.close()

    def _connect(self, kernel_id: str) -> websocket.WebSocket:
        url = f"{self.host.ws_url}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4()}"
        try:
            # No UTF-8 check frame by frame: websocket-client does it in pure Python, byte by byte
            # (the largest cost of a small cell in the web process), and json.loads of the
            # decoded text refuses invalid UTF-8 anyway.
            return websocket.create_connection(
                url,
                header=[f"Authorization: token {self.host.token}"],
                timeout=self.timeout,
                skip_utf8_validation=True,
            )
        except (OSError, websocket.WebSocketException) as exc:
            raise HostUnavailable(f"kernel host {self.host.url}: {exc}") from exc


class _Channel:
    """One open websocket to a kernel, used by one request at a time."""

    def __init__(self, ws: websocket.WebSocket) -> None:
        self.ws = ws
        self.lock = threading.Lock()
        self.session = Session(username="skillforge")
        self.msg_id = ""
        self.stale = False  # the kernel restarted since this websocket opened

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close(timeout=1)
        # After the host's close frame websocket-client counts itself closed but keeps the socket.
        self.ws.shutdown()

    def still_open(self) -> bool:
        """Take in what arrived while the channel sat idle: answer the host's pings (a host closes
        a websocket that leaves them unanswered for 90 s, and this client reads only while a cell
        runs) and drop outputs of other processes' cells. False when the host closed it meanwhile.
        """
        try:
            while self.ws.sock is not None and select.select([self.ws.sock], [], [], 0)[0]:
                self.ws.settimeout(5)  # the rest of a frame that has begun to arrive
                opcode, _data = self.ws.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    return False
        except (OSError, UnicodeDecodeError, websocket.WebSocketException):
            return False
        return bool(self.ws.connected)

    def send_execute(self, code: str) -> None:
        content = {"code": code, "silent": False, "store_history": True, "allow_stdin": False}
        request = self.session.msg("execute_request", {**content, "user_expressions": {}})
        self.msg_id = request["header"]["msg_id"]
        self.ws.send(
            json.dumps({**request, "channel": "shell", "buffers": []}, default=json_default)
        )

    def replies(self, max_seconds: float) -> Iterator[dict[str, Any]]:
        deadline = time.monotonic() + max_seconds
        idle = replied = False
        while not (idle and replied):
            msg = self._next(deadline)
            if msg is None:
                if time.monotonic() >= deadline:
                    yield {"msg_type": "still_running", "content": {}}
                    return
                continue
            kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
            state = msg.get("content", {}).get("execution_state") if kind == "status" else None
            if state in ("restarting", "dead"):
                yield {"msg_type": "kernel_restarted", "content": msg["content"]}
                return
            if msg.get("parent_header", {}).get("msg_id") != self.msg_id:
                continue
            if state == "idle":
                idle = True
            elif kind == "execute_reply":
                replied = True
                yield {"msg_type": kind, "content": msg["content"]}
            elif kind in OUTPUT_TYPES_ALL or kind == "execute_input":
                yield {"msg_type": kind, "content": msg["content"]}

    def _next(self, deadline: float) -> dict[str, Any] | None:
        """The next message, or None when none came within 30 s (or by the deadline)."""
        self.ws.settimeout(max(0.1, min(30.0, deadline - time.monotonic())))
        try:
            raw = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        except (OSError, UnicodeDecodeError, websocket.WebSocketException) as exc:
            raise HostUnavailable(f"the kernel's connection closed: {exc}") from exc
        if not raw:  # the host's close frame
            raise HostUnavailable("the kernel host closed the connection")
        return dict(json.loads(raw))


# Each open websocket holds a few ZMQ sockets (about ten file descriptors) on its host, so a web
# process keeps at most this many. It must exceed the kernels one process serves at a time: every
# process of an app server ends up serving every active kernel (a browser's next request goes to
# whichever process accepts it), and a process that keeps fewer reconnects on most cells.
MAX_CHANNELS = 256
_channels: OrderedDict[tuple[str, str], _Channel] = OrderedDict()
_channels_lock = threading.Lock()


def close_all() -> None:
    """Close this process's kernel connections (and this thread's HTTP connections)."""
    with _channels_lock:
        channels = list(_channels.values())
        _channels.clear()
    for channel in channels:
        channel.close()
    session: requests.Session | None = getattr(_local, "http", None)
    if session is not None:
        session.close()
        _local.http = None
