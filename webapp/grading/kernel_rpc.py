"""Calls between the trusted checking kernel and the submission's kernel, as data only.

This module never runs in the app: the grader sends its source into both sandboxed kernels. Each
side is a ``Peer``; the two exchange messages through the grader, which delivers each message as
the reply to the other side's pending ``input()`` (Jupyter's stdin channel), so calls nest both
ways (a check calls an answer, the answer calls back a function the check passed).

Values cross as msgpack with tagged extension types: plain Python data, numpy arrays and scalars
(``numpy.lib.format`` without pickle), pandas objects (Arrow IPC), random generators (their state),
instances of classes the instructor defined (their ``__dict__``), scikit-learn estimators (skops,
default-trusted types only on the trusted side). Anything else stays where it lives and the other
side gets a handle whose attribute reads, calls, items, ``len`` and iteration are calls back. On
the trusted side a handle never answers ``==`` by asking the submission: only identity.
Arguments that a call mutated in place (lists, dicts, arrays, frames, generators) are written back.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import io
import sys
import types
from collections.abc import Callable
from typing import Any

import msgpack
from kernel_codec import (  # the grader installs it beside this module in each kernel
    DECODERS,
    ENCODERS,
    FALLBACK_ENCODERS,
    MAX_DEPTH,
    MAX_TEXT,
    OPAQUE,
    STUDENT,
    T_BIGINT,
    T_ESTIMATOR,
    T_HANDLE,
    T_INSTANCE,
    T_ITERATOR,
    T_OWNREF,
    TRUSTED,
    Unencodable,
    _bounded_list,
    _fingerprint,
    _is_iterator,
    ext,
    register_pandas,
    update_in_place,
)

BUILTIN_ERRORS = {
    name: obj
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, Exception)
}


class RemoteError(Exception):
    """The other side raised an exception that is not one of Python's built-in ones."""


def _encoder_for(value):
    """The encoder of ``value``'s exact type, else of a base class it has, else None."""
    encoder = ENCODERS.get(type(value))
    if encoder is None and register_pandas():
        encoder = ENCODERS.get(type(value))
    if encoder is not None:
        return encoder
    for kind, fallback in FALLBACK_ENCODERS:
        if isinstance(value, kind):
            return fallback
    return None


class PeerGone(Exception):
    """The other side stopped answering (time limit, crash, or a refused message)."""


class ByReference:
    """Wraps an object that must stay on this side: the other side gets a handle to it."""

    __slots__ = ("obj",)

    def __init__(self, obj) -> None:
        self.obj = obj


class Peer:
    """One side of the conversation: its handles, its stubs of the other side's objects."""

    def __init__(self, role: str, transport, namespace: dict, classes=None) -> None:
        self.role = role
        self.transport = transport  # str -> str: send one message, get the next one back
        self.namespace = namespace
        self.classes = classes if classes is not None else {}  # name -> class, by value
        self.handles: dict[int, object] = {}
        self._ids: dict[int, int] = {}
        self._stubs: dict[int, object] = {}
        self._next = 1
        self._seq = 0
        self.gone: str | None = None

    # --- requests to the other side ------------------------------------------------------------

    def request(self, op: str, *fields):
        """Send one operation and serve the other side's calls until its answer comes back."""
        if self.gone:
            raise PeerGone(self.gone)
        self._seq += 1
        seq = self._seq
        outgoing = self.pack(["call", seq, op, *fields])
        while True:
            reply = self.transport(outgoing)
            if reply.startswith("error:"):
                self.gone = reply[6:] or "the other side stopped"
                raise PeerGone(self.gone)
            message = self.unpack(reply)
            kind = message[0]
            if kind == "call":
                outgoing = self.pack(self.serve(message))
                continue
            if message[1] != seq:
                raise PeerGone("the other side answered out of turn")
            if kind == "return":
                self.write_back(fields, message[3] if len(message) > 3 else [])
                return message[2]
            if kind == "raise":
                raise self.exception(message[2], message[3])
            raise PeerGone("the other side sent an unknown message")

    def write_back(self, fields, changed) -> None:
        """Apply the other side's in-place changes to the arguments this side passed."""
        if not changed or len(fields) < 2:
            return
        args = list(fields[1]) + list(fields[2].values()) if len(fields) > 2 else []
        for position, value in changed:
            if isinstance(position, int) and 0 <= position < len(args):
                update_in_place(args[position], value)

    def exception(self, ename, evalue) -> Exception:
        ename, evalue = str(ename)[:100], str(evalue)[:MAX_TEXT]
        cls = BUILTIN_ERRORS.get(ename)
        if cls is not None and cls not in (SystemExit, KeyboardInterrupt):
            with contextlib.suppress(Exception):  # some built-ins need more arguments
                return cls(evalue)
        return RemoteError(f"{ename}: {evalue}" if evalue else ename)

    # --- serving the other side's requests -------------------------------------------------------

    def serve(self, message) -> list:
        seq, op, fields = message[1], message[2], message[3:]
        try:
            result, changed = self.perform(op, fields)
            return ["return", seq, result, changed]
        except BaseException as exc:  # noqa: BLE001 - every failure is reported as data
            if isinstance(exc, PeerGone):
                raise
            return ["raise", seq, type(exc).__name__, _text(exc)]

    def perform(self, op: str, fields):
        """Carry out one operation; the result and the arguments it changed in place."""
        if self.role == TRUSTED:
            _refuse_prying(op, fields)
        if op == "call":
            return self.call(*fields)
        action = OPERATIONS.get(op)
        if action is None or (op in ("hash", "eq") and self.role != TRUSTED):
            raise TypeError(f"operation {op!r} is not supported here")
        return action(self, *fields), []

    def call(self, target, args, kwargs):
        if not callable(target):
            raise TypeError(f"'{type(target).__name__}' object is not callable")
        passed = [*args, *kwargs.values()]
        before = [_fingerprint(v) for v in passed]
        result = target(*args, **kwargs)
        changed = [
            [i, value]
            for i, (value, old) in enumerate(zip(passed, before, strict=True))
            if old is not None and _fingerprint(value) != old
        ]
        return result, changed

    def get_path(self, path: str):
        first, *rest = str(path).split(".")
        if first not in self.namespace:
            raise NameError(f"name '{first}' is not defined")
        obj = self.namespace[first]
        for part in rest:
            obj = getattr(obj, part)
        return obj

    def set_path(self, path: str, value) -> None:
        parts = str(path).split(".")
        if len(parts) == 1:
            self.namespace[parts[0]] = value
            return
        obj = self.namespace[parts[0]]
        for part in parts[1:-1]:
            obj = getattr(obj, part)
        setattr(obj, parts[-1], value)

    # --- encoding ------------------------------------------------------------------------------

    def pack(self, value) -> str:
        data = msgpack.packb(self.encode(value, 0), use_bin_type=True)
        return base64.b64encode(data).decode("ascii")

    def unpack(self, text: str):
        data = base64.b64decode(text.encode("ascii"), validate=True)
        raw = msgpack.unpackb(data, raw=False, strict_map_key=False, use_list=True)
        return self.decode(raw, 0)

    def own(self, obj) -> int:
        key = id(obj)
        if key not in self._ids:
            self._ids[key] = self._next
            self.handles[self._next] = obj
            self._next += 1
        return self._ids[key]

    def encode(self, value, depth: int):
        if depth > MAX_DEPTH:
            raise Unencodable("the value is nested too deeply")
        if value is None or isinstance(value, bool | str | bytes | float):
            return value
        if isinstance(value, int):
            return value if -(2**63) <= value < 2**64 else ext(T_BIGINT, str(value))
        if type(value) is list:
            return [self.encode(v, depth + 1) for v in value]
        if isinstance(value, Stub) and value._peer is self:
            return ext(T_OWNREF, value._id)
        if isinstance(value, ByReference):
            return self.handle(value.obj)
        encoder = _encoder_for(value)
        if encoder is not None:
            return encoder(self, value, depth)
        return self.encode_object(value, depth)

    def encode_object(self, value, depth: int):
        cls = type(value)
        if self.classes.get(cls.__name__) is cls and hasattr(value, "__dict__"):
            state = [[k, self.encode(v, depth + 1)] for k, v in vars(value).items()]
            return ext(T_INSTANCE, [cls.__name__, state])
        module = getattr(cls, "__module__", "") or ""
        if module.startswith("sklearn.") and hasattr(value, "get_params"):
            encoded = self.encode_estimator(value)
            if encoded is not None:
                return encoded
        if isinstance(value, types.GeneratorType) or _is_iterator(value):
            return ext(T_ITERATOR, [self.encode(v, depth + 1) for v in _bounded_list(value)])
        return self.handle(value)

    def handle(self, value):
        kind = type(value).__name__[:100]
        return ext(T_HANDLE, [self.own(value), kind, callable(value)])

    def encode_estimator(self, value):
        import skops.io as sio  # noqa: PLC0415 - only when a model crosses

        try:
            data = sio.dumps(value)
        except Exception:  # noqa: BLE001 - not every estimator can be stored
            return None
        if self.role == STUDENT and sio.get_untrusted_types(data=data):
            return None  # the trusted side only loads types skops trusts; keep it here
        return ext(T_ESTIMATOR, data)

    def decode(self, value, depth: int):
        if depth > MAX_DEPTH:
            raise Unencodable("the value is nested too deeply")
        if isinstance(value, list):
            return [self.decode(v, depth + 1) for v in value]
        if isinstance(value, dict):  # never produced by encode(); refuse rather than guess
            raise Unencodable("unexpected map")
        if isinstance(value, msgpack.ExtType):
            decoder = DECODERS.get(value.code)
            if decoder is None:
                raise Unencodable(f"unknown value type {value.code}")
            payload = msgpack.unpackb(value.data, raw=False, strict_map_key=False)
            return decoder(self, payload, depth)
        return value

    def stub(self, ident: int, kind: str, is_callable: bool):
        if ident not in self._stubs:
            cls = CallableStub if is_callable else Stub
            self._stubs[ident] = cls(self, ident, kind)
        return self._stubs[ident]


def _setattr(peer, target, name, value) -> None:
    setattr(target, name, value)


def _setitem(peer, target, key, value) -> None:
    target[key] = value


OPERATIONS: dict[str, Callable[..., Any]] = {
    "getglobal": lambda peer, path: peer.get_path(path),
    "setglobal": lambda peer, path, value: peer.set_path(path, value),
    "getattr": lambda peer, target, name: getattr(target, name),
    "setattr": _setattr,
    "getitem": lambda peer, target, key: target[key],
    "setitem": _setitem,
    "len": lambda peer, target: len(target),
    "iter": lambda peer, target: _bounded_list(target),
    "contains": lambda peer, target, item: item in target,
    "repr": lambda peer, target: repr(target)[:MAX_TEXT],
    "bool": lambda peer, target: bool(target),
    "hash": lambda peer, target: hash(target),
    "eq": lambda peer, target, other: bool(target == other),
    "map": lambda peer, target, calls: [target(*args, **kwargs) for args, kwargs in calls],
}
PRIVATE_OPS = ("getglobal", "setglobal")


def _refuse_prying(op: str, fields) -> None:
    """The submission may use what a check hands it, never look behind it (globals, dunders)."""
    if op in PRIVATE_OPS:
        raise PermissionError("the checks' namespace is not reachable from an answer")
    if op == "map":
        raise PermissionError("an answer calls the checks' functions one call at a time")
    if op in ("getattr", "setattr") and str(fields[1]).startswith("_"):
        raise AttributeError(f"attribute {fields[1]!r} is not reachable from an answer")


def _text(exc: BaseException) -> str:
    try:
        return str(exc)[:MAX_TEXT]
    except Exception:  # noqa: BLE001 - a hostile __str__
        return ""


# --- stubs: the other side's objects --------------------------------------------------------------


class Stub:
    """An object that lives on the other side; every use is a call there."""

    __slots__ = ("_peer", "_id", "_kind")

    def __init__(self, peer: Peer, ident: int, kind: str) -> None:
        object.__setattr__(self, "_peer", peer)
        object.__setattr__(self, "_id", ident)
        object.__setattr__(self, "_kind", kind)

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._peer.request("getattr", self, name)

    def __setattr__(self, name: str, value) -> None:
        self._peer.request("setattr", self, name, value)

    def __getitem__(self, key):
        return self._peer.request("getitem", self, key)

    def __setitem__(self, key, value) -> None:
        self._peer.request("setitem", self, key, value)

    def __len__(self) -> int:
        result = self._peer.request("len", self)
        if not isinstance(result, int) or isinstance(result, bool) or result < 0:
            raise TypeError("len() of the answer's object is not a non-negative int")
        return result

    def __iter__(self):
        result = self._peer.request("iter", self)
        return iter(result if isinstance(result, list) else [])

    def __contains__(self, item) -> bool:
        return self._peer.request("contains", self, item) is True

    def __bool__(self) -> bool:
        return self._peer.request("bool", self) is True

    def __repr__(self) -> str:
        text = self._peer.request("repr", self)
        return text if isinstance(text, str) else f"<{self._kind}>"

    def __eq__(self, other) -> bool:
        if self._peer.role == STUDENT:  # the trusted side's object decides, there
            return self._peer.request("eq", self, other) is True
        return other is self

    def __hash__(self) -> int:
        if self._peer.role == STUDENT:
            value = self._peer.request("hash", self)
            return value if isinstance(value, int) else 0
        return hash((id(self._peer), self._id))


OPAQUE.append(Stub)


class CallableStub(Stub):
    __slots__ = ()

    def __call__(self, *args, **kwargs):
        return self._peer.request("call", self, list(args), kwargs)


# --- the student side's loop ----------------------------------------------------------------------


def serve_student(namespace: dict, class_names) -> None:
    """Answer the trusted side's requests until the grader ends the conversation."""
    ask = builtins.input  # ipykernel's stdin-channel input while this request runs
    classes = {}
    for name in class_names:
        value = namespace.get(name)
        if isinstance(value, type):
            classes[name] = value
    peer = Peer(STUDENT, ask, namespace, classes)
    # Nothing printed while serving is shown or stored: skip the kernel's output machinery,
    # which every input() would otherwise flush.
    sys.stdout = sys.stderr = io.StringIO()
    outgoing = "ready"
    while True:
        incoming = ask(outgoing)
        message = None
        if incoming == "end" or incoming.startswith("error:"):
            return
        try:
            message = peer.unpack(incoming)
            outgoing = peer.pack(peer.serve(message))
        except PeerGone:
            return
        except BaseException as exc:  # noqa: BLE001 - a result that cannot be sent
            seq = message[1] if isinstance(message, list) and len(message) > 1 else 0
            outgoing = peer.pack(["raise", seq, type(exc).__name__, _text(exc)])
