"""Run by test_kernel_rpc.py under the grading kernel's Python: the codec's cases, as JSON.

Two ``Peer`` objects talk in one process (no kernels), so every case is fast and exact.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import msgpack
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "webapp" / "grading"))
import kernel_codec as codec  # noqa: E402
import kernel_rpc as rpc  # noqa: E402


def pair():
    student_ns: dict = {}
    student = rpc.Peer(rpc.STUDENT, None, student_ns)
    trusted_ns: dict = {}
    trusted = rpc.Peer(rpc.TRUSTED, None, trusted_ns)
    student.transport = lambda m: trusted.pack(trusted.serve(trusted.unpack(m)))
    trusted.transport = lambda m: student.pack(student.serve(student.unpack(m)))
    return trusted, student, student_ns


def crossed(value):
    """``value`` sent by the submission's side and decoded by the trusted side."""
    trusted, student, _ = pair()
    return trusted.unpack(student.pack(value))


def same(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.equals(b) and list(a.dtypes) == list(b.dtypes)
    if isinstance(a, pd.Series | pd.Index):
        return type(a) is type(b) and a.equals(b) and a.name == b.name and a.dtype == b.dtype
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and (np.array_equal(a, b, equal_nan=a.dtype.kind in "fcmM"))
        )
    if isinstance(a, np.random.Generator):
        return a.bit_generator.state == b.bit_generator.state
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


ROUND_TRIP = {
    "none": None,
    "bool": True,
    "big int": 2**100,
    "negative int": -(2**63),
    "nan": float("nan"),
    "inf": float("-inf"),
    "text": "héllo",
    "bytes": b"\x00\x01",
    "list": [1, [2, "x"]],
    "tuple": (1, (2, 3)),
    "dict with tuple keys": {(1, "a"): [1], "b": {2: 3}},
    "set": {1, 2},
    "frozenset": frozenset({"a"}),
    "complex": 1 + 2j,
    "float array": np.array([[1.5, np.nan], [3.0, 4.0]]),
    "int8 array": np.arange(5, dtype=np.int8),
    "bool array": np.array([True, False]),
    "datetime array": np.array(["2024-01-01", "NaT"], dtype="datetime64[ns]"),
    "structured array": np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
    "float16 scalar": np.float16(1.5),
    "int64 scalar": np.int64(7),
    "dtype": np.dtype("float32"),
    "numpy type": np.float16,
    "python type": float,
    "frame": pd.DataFrame(
        {
            "x": [1.0, np.nan, 3.0],
            "c": pd.Categorical(["a", "b", "a"]),
            "t": pd.to_datetime(["2024-01-01", "2024-02-01", None]).tz_localize("UTC"),
            "s": ["u", None, "w"],
        },
        index=pd.Index([10, 20, 30], name="id"),
    ),
    "object column frame": pd.DataFrame({"s": pd.Series(["x", None], dtype=object)}),
    "series": pd.Series([1, 2], index=["a", "b"], name="n"),
    "unnamed series": pd.Series([0.5, 1.5]),
    "index": pd.Index(["a", "b"], name="k"),
    "timestamp": pd.Timestamp("2024-05-01 12:00", tz="Europe/London"),
    "timedelta": pd.Timedelta("2h"),
    "datetime": dt.datetime(2024, 1, 2, 3, 4, 5),
    "date": dt.date(2024, 1, 2),
    "python timedelta": dt.timedelta(days=1, seconds=5),
    "slice": slice(1, None, 2),
    "range": range(0, 10, 3),
    "generator": np.random.default_rng(3),
}


class Sly(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


class SlyList(list):
    def __eq__(self, other):
        return True


def hostile(payload: bytes) -> str:
    """How the trusted side refuses a crafted message, as '<Exception type>'."""
    trusted, _, _ = pair()
    import base64

    try:
        trusted.unpack(base64.b64encode(payload).decode())
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__
    return "accepted"


def npy_with_pickle() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def deep(levels: int):
    value = codec.ext(codec.T_TUPLE, [])
    for _ in range(levels):
        value = codec.ext(codec.T_TUPLE, [value])
    return msgpack.packb(value)


def main() -> None:
    results: dict = {"round_trip": {}, "hostile": {}, "behaviour": {}}
    for name, value in ROUND_TRIP.items():
        try:
            results["round_trip"][name] = same(value, crossed(value))
        except Exception as exc:  # noqa: BLE001
            results["round_trip"][name] = f"{type(exc).__name__}: {exc}"
    back = crossed(Sly(1.0))
    results["behaviour"]["float subclass arrives plain"] = type(back) is float and back != 2.0
    back = crossed(pd.DataFrame({"a": [1, 2, 3]}))
    results["behaviour"]["a RangeIndex stays a RangeIndex"] = isinstance(back.index, pd.RangeIndex)
    back = crossed(SlyList([1]))
    results["behaviour"]["list subclass arrives plain"] = type(back) is list and back != [2]
    results["hostile"]["pickled npy"] = hostile(
        msgpack.packb(codec.ext(codec.T_NDARRAY, npy_with_pickle()))
    )
    results["hostile"]["too deep"] = hostile(deep(codec.MAX_DEPTH + 5))
    results["hostile"]["unknown type code"] = hostile(msgpack.packb(codec.ext(99, 1)))
    results["hostile"]["unknown class"] = hostile(
        msgpack.packb(codec.ext(codec.T_INSTANCE, ["Popen", []]))
    )
    results["hostile"]["type outside numpy"] = hostile(
        msgpack.packb(codec.ext(codec.T_TYPE, ["numpy", "load"]))
    )
    results["hostile"]["unknown reference"] = hostile(msgpack.packb(codec.ext(codec.T_OWNREF, 41)))
    results["hostile"]["plain map"] = hostile(msgpack.packb({"a": 1}))
    results["behaviour"].update(behaviour())
    print(json.dumps(results, default=lambda v: bool(v) if isinstance(v, np.bool_) else str(v)))


def behaviour() -> dict:
    out = {}
    trusted, student, student_ns = pair()
    secret = {"expected": 42}
    trusted.namespace.update(secret)

    def callback(x):
        return x + 1

    def pry(fn):
        found = []
        for attempt in (
            lambda: student.request("getglobal", "expected"),
            lambda: fn.__globals__,
            lambda: student.request("getattr", fn, "__globals__"),
        ):
            try:
                found.append(attempt())
            except Exception as exc:  # noqa: BLE001
                found.append(type(exc).__name__)
        return found

    student_ns["pry"] = pry
    found = trusted.request("getglobal", "pry")(callback)
    out["the submission cannot read the checks' globals"] = 42 not in found and all(
        isinstance(f, str) for f in found
    )

    def mutate(xs, frame, gen):
        xs.append(1)
        frame.loc[0, "a"] = 9.0
        gen.normal()
        return None

    student_ns["mutate"] = mutate
    xs, frame, gen = [], pd.DataFrame({"a": [1.0]}), np.random.default_rng(0)
    trusted.request("getglobal", "mutate")(xs, frame, gen)
    moved = np.random.default_rng(0)
    moved.normal()
    out["in-place changes are written back"] = (
        xs == [1]
        and frame.loc[0, "a"] == 9.0
        and gen.bit_generator.state == moved.bit_generator.state
    )

    class Box:
        pass

    student_ns["make"] = lambda: Box()
    handle = trusted.request("getglobal", "make")()
    out["an unknown object arrives as a handle equal only to itself"] = (
        isinstance(handle, rpc.Stub) and handle != handle.__class__ and handle == handle
    )
    student_ns["boom"] = lambda: (_ for _ in ()).throw(ValueError("no"))
    try:
        trusted.request("getglobal", "boom")()
        out["a built-in exception crosses as itself"] = False
    except ValueError as exc:
        out["a built-in exception crosses as itself"] = str(exc) == "no"
    return out


if __name__ == "__main__":
    main()
