"""The app's kept-open kernel connections between cells: a channel left idle answers the host's
pings (a host closes a websocket whose pings go unanswered) and drops what it no longer needs, and
one the host closed meanwhile is found closed before a cell is sent on it."""

from __future__ import annotations

import base64
import hashlib
import select
import socket
import threading
from collections.abc import Iterator

import pytest
import websocket

from webapp.kernels.client import _Channel

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class OneClientServer:
    """A websocket server on a real local socket for one client; the test says what it sends."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.peer: socket.socket | None = None
        self.accepting = threading.Thread(target=self._accept)
        self.accepting.start()

    def _accept(self) -> None:
        peer, _address = self.listener.accept()
        request = b""
        while b"\r\n\r\n" not in request:
            request += peer.recv(4096)
        key = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())  # noqa: S324 - RFC 6455
        peer.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        self.peer = peer

    def channel(self) -> _Channel:
        port = self.listener.getsockname()[1]
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}/", timeout=5, skip_utf8_validation=True
        )
        self.accepting.join()
        return _Channel(ws)

    def send(self, opcode: int, payload: bytes = b"") -> None:
        assert self.peer is not None and len(payload) < 126
        self.peer.sendall(bytes([0x80 | opcode, len(payload)]) + payload)

    def receive(self) -> tuple[int, bytes]:
        """The client's next frame (masked, as clients send them)."""
        head = self._exactly(2)
        mask = self._exactly(4)
        data = self._exactly(head[1] & 0x7F)
        return head[0] & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def _exactly(self, n: int) -> bytes:
        assert self.peer is not None
        data = b""
        while len(data) < n:
            chunk = self.peer.recv(n - len(data))
            assert chunk, "the client closed the connection"
            data += chunk
        return data

    def close(self) -> None:
        if self.peer is not None:
            self.peer.close()
        self.listener.close()


@pytest.fixture()
def server() -> Iterator[OneClientServer]:
    server = OneClientServer()
    yield server
    server.close()


def arrived(channel: _Channel) -> None:
    """Wait until what the server sent is readable on the client's side."""
    assert select.select([channel.ws.sock], [], [], 5)[0]


def test_an_idle_channel_answers_the_hosts_pings_and_drops_other_cells_outputs(
    server: OneClientServer,
) -> None:
    channel = server.channel()
    server.send(TEXT, b'{"msg_type": "stream", "parent_header": {"msg_id": "another"}}')
    server.send(PING, b"keep")
    arrived(channel)
    assert channel.still_open() is True
    assert server.receive() == (PONG, b"keep")
    assert not select.select([channel.ws.sock], [], [], 0)[0]  # nothing left over for a cell
    channel.close()


def test_a_channel_the_host_closed_while_idle_is_found_closed_before_a_cell_is_sent(
    server: OneClientServer,
) -> None:
    channel = server.channel()
    server.send(CLOSE, (1000).to_bytes(2, "big"))
    arrived(channel)
    assert channel.still_open() is False
    channel.close()
