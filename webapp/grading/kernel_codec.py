"""The value codec of the two grading kernels: what crosses as data, and how (kernel side).

Like ``kernel_rpc`` (which imports it), this module never runs in the app: the grader sends its
source into both sandboxed kernels. Values cross as msgpack with tagged extension types; decoding
builds only plain data, numpy arrays without pickle, pandas objects from Arrow, numpy random
generators from their state, instances of the instructor's classes from their attributes and
scikit-learn estimators that skops trusts. Anything else is a handle (``Peer.handle``).
"""

from __future__ import annotations

import datetime as _dt
import io
import sys

import msgpack
import numpy as np

MAX_DEPTH = 64
MAX_ITEMS = 1_000_000
MAX_TEXT = 4000
TRUSTED, STUDENT = "trusted", "student"
OPAQUE: list[type] = []  # kernel_rpc adds its handle classes: fingerprinted by identity only

(
    T_TUPLE,
    T_DICT,
    T_SET,
    T_FROZENSET,
    T_COMPLEX,
    T_BIGINT,
    T_NDARRAY,
    T_OBJARRAY,
    T_NPSCALAR,
    T_DTYPE,
    T_TYPE,
    T_FRAME,
    T_SERIES,
    T_INDEX,
    T_TIMESTAMP,
    T_TIMEDELTA,
    T_NAT,
    T_NA,
    T_DATETIME,
    T_DATE,
    T_PYTIMEDELTA,
    T_SLICE,
    T_RANGE,
    T_ELLIPSIS,
    T_GENERATOR,
    T_RANDOMSTATE,
    T_INSTANCE,
    T_ESTIMATOR,
    T_HANDLE,
    T_OWNREF,
    T_ITERATOR,
) = range(1, 32)

PY_TYPES = {
    t.__name__: t
    for t in (int, float, str, bool, complex, bytes, list, tuple, dict, set, frozenset, object)
}


class Unencodable(TypeError):
    pass


def ext(code: int, payload) -> msgpack.ExtType:
    return msgpack.ExtType(code, msgpack.packb(payload, use_bin_type=True))


def _is_iterator(value) -> bool:
    try:
        return hasattr(value, "__next__") and iter(value) is value
    except Exception:  # noqa: BLE001
        return False


def _bounded_list(iterable) -> list:
    items = []
    for item in iterable:
        items.append(item)
        if len(items) > MAX_ITEMS:
            raise ValueError(f"more than {MAX_ITEMS:,} items")
    return items


def _fingerprint(value):
    """A cheap comparable copy of a mutable argument, or None for values never written back."""
    if isinstance(value, np.ndarray):
        return (value.shape, value.dtype.str, value.tobytes()) if value.dtype != object else None
    if isinstance(value, np.random.Generator):
        return repr(value.bit_generator.state)
    if isinstance(value, list | dict | set):
        items = list(value.values()) if isinstance(value, dict) else list(value)
        if any(isinstance(item, tuple(OPAQUE)) for item in items):  # repr() of a handle: a call
            return tuple((id(item), type(item).__name__) for item in items)
        try:
            return repr(value)
        except Exception:  # noqa: BLE001
            return None
    module = type(value).__module__ or ""
    if module.startswith("sklearn.") and hasattr(value, "get_params"):
        return tuple((k, _fingerprint(v) or repr(v)) for k, v in sorted(vars(value).items()))
    if module.split(".")[0] == "pandas" and hasattr(value, "to_json"):
        return _frame_fingerprint(value)
    return None


def _frame_fingerprint(value):
    import pandas as pd  # noqa: PLC0415

    shape = (repr(getattr(value, "dtypes", "")), repr(getattr(value, "columns", "")))
    try:
        return (*shape, pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    except Exception:  # noqa: BLE001 - unhashable cells (lists, dicts): compare their text
        try:
            return (*shape, value.to_json(double_precision=15))
        except Exception:  # noqa: BLE001
            return None


def update_in_place(target, value) -> None:
    """Make ``target`` equal to ``value`` without replacing the object (a mutated argument)."""
    if isinstance(target, list) and isinstance(value, list):
        target[:] = value
    elif (isinstance(target, dict) and isinstance(value, dict)) or (
        isinstance(target, set) and isinstance(value, set | frozenset)
    ):
        target.clear()
        target.update(value)
    elif isinstance(target, np.ndarray) and isinstance(value, np.ndarray):
        if target.shape == value.shape and target.flags.writeable:
            target[...] = value
    elif isinstance(target, np.random.Generator) and isinstance(value, np.random.Generator):
        target.bit_generator.state = value.bit_generator.state
    elif hasattr(target, "_update_inplace") and type(target) is type(value):
        target._update_inplace(value)
    elif hasattr(target, "get_params") and type(target) is type(value):
        target.__dict__.clear()  # a scikit-learn estimator the answer refitted or edited
        target.__dict__.update(value.__dict__)


# --- encoders and decoders by type ----------------------------------------------------------------


def _enc_seq(code):
    return lambda peer, v, d: ext(code, [peer.encode(x, d + 1) for x in v])


def _enc_dict(peer, value, depth):
    return ext(
        T_DICT, [[peer.encode(k, depth + 1), peer.encode(v, depth + 1)] for k, v in value.items()]
    )


def _enc_ndarray(peer, value, depth):
    if value.dtype == object:
        items = [peer.encode(v, depth + 1) for v in value.ravel().tolist()]
        return ext(T_OBJARRAY, [list(value.shape), items])
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(value), allow_pickle=False)
    return ext(T_NDARRAY, buffer.getvalue())


def _dec_ndarray(peer, payload, depth):
    array = np.lib.format.read_array(io.BytesIO(payload), allow_pickle=False)
    return array


def _dec_objarray(peer, payload, depth):
    shape, items = payload
    decoded = [peer.decode(v, depth + 1) for v in items]
    array = np.empty(len(decoded), dtype=object)
    array[:] = decoded
    return array.reshape([int(s) for s in shape])


def _enc_npscalar(peer, value, depth):
    if value.dtype == object:
        return peer.encode(value.item(), depth)
    return ext(T_NPSCALAR, [np.lib.format.dtype_to_descr(value.dtype), value.tobytes()])


def _dec_npscalar(peer, payload, depth):
    descr, data = payload
    dtype = np.lib.format.descr_to_dtype(_descr(descr))
    if dtype.hasobject:
        raise Unencodable("object scalar")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _descr(descr):
    if isinstance(descr, list):  # structured: msgpack turned tuples into lists
        return [tuple(_descr(x) if isinstance(x, list) else x for x in field) for field in descr]
    return descr


def _enc_dtype(peer, value, depth):
    return ext(T_DTYPE, np.lib.format.dtype_to_descr(value))


def _dec_dtype(peer, payload, depth):
    dtype = np.lib.format.descr_to_dtype(_descr(payload))
    if dtype.hasobject and dtype != np.dtype(object):
        raise Unencodable("structured object dtype")
    return dtype


def _enc_type(peer, value, depth):
    if (
        isinstance(value, type)
        and issubclass(value, np.generic)
        and getattr(np, value.__name__, None) is value
    ):
        return ext(T_TYPE, ["numpy", value.__name__])
    if PY_TYPES.get(getattr(value, "__name__", "")) is value:
        return ext(T_TYPE, ["builtins", value.__name__])
    if peer.classes.get(getattr(value, "__name__", "")) is value:
        return ext(T_TYPE, ["instructor", value.__name__])
    return peer.handle(value)


def _dec_type(peer, payload, depth):
    module, name = payload
    if module == "numpy":
        found = getattr(np, str(name), None)
        if isinstance(found, type) and issubclass(found, np.generic):
            return found
    elif module == "builtins" and name in PY_TYPES:
        return PY_TYPES[name]
    elif module == "instructor" and name in peer.classes:
        return peer.classes[name]
    raise Unencodable(f"unknown type {module}.{name}")


def _arrow_bytes(frame) -> bytes:
    import pyarrow as pa  # noqa: PLC0415

    table = pa.Table.from_pandas(frame, preserve_index=None)  # a RangeIndex stays a range
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _arrow_frame(data: bytes):
    import pyarrow as pa  # noqa: PLC0415

    return pa.ipc.open_stream(data).read_all().to_pandas()


def _enc_frame(peer, value, depth):
    try:
        as_object = [i for i, kind in enumerate(value.dtypes) if kind == np.dtype(object)]
        return ext(T_FRAME, ["arrow", _arrow_bytes(value), as_object])
    except Exception:  # noqa: BLE001 - columns Arrow cannot hold: column by column instead
        columns = [peer.encode(c, depth + 1) for c in value.columns]
        data = [peer.encode(value.iloc[:, i].to_numpy(), depth + 1) for i in range(value.shape[1])]
        return ext(T_FRAME, ["columns", columns, data, peer.encode(value.index, depth + 1)])


def _dec_frame(peer, payload, depth):
    import pandas as pd  # noqa: PLC0415

    if payload[0] == "arrow":
        frame = _arrow_frame(payload[1])
        for position in payload[2] if len(payload) > 2 else []:
            if isinstance(position, int) and 0 <= position < frame.shape[1]:
                frame[frame.columns[position]] = frame.iloc[:, position].astype(object)
        return frame
    columns = [peer.decode(c, depth + 1) for c in payload[1]]
    data = [peer.decode(c, depth + 1) for c in payload[2]]
    index = peer.decode(payload[3], depth + 1)
    frame = pd.DataFrame(dict(enumerate(data)), index=index)
    frame.columns = columns
    return frame


def _enc_series(peer, value, depth):
    frame = value.to_frame(name="__value__")
    return ext(T_SERIES, [peer.encode(value.name, depth + 1), _enc_frame(peer, frame, depth)])


def _dec_series(peer, payload, depth):
    frame = peer.decode(payload[1], depth + 1)
    series = frame.iloc[:, 0]
    series.name = peer.decode(payload[0], depth + 1)
    return series


def _enc_index(peer, value, depth):
    import pandas as pd  # noqa: PLC0415

    frame = pd.DataFrame(index=value)
    return ext(T_INDEX, [_enc_frame(peer, frame, depth)])


def _dec_index(peer, payload, depth):
    return peer.decode(payload[0], depth + 1).index


def _enc_generator(peer, value, depth):
    return ext(
        T_GENERATOR,
        [type(value.bit_generator).__name__, peer.encode(value.bit_generator.state, depth + 1)],
    )


def _dec_generator(peer, payload, depth):
    name, state = payload
    cls = {
        "PCG64": np.random.PCG64,
        "MT19937": np.random.MT19937,
        "Philox": np.random.Philox,
        "SFC64": np.random.SFC64,
        "PCG64DXSM": np.random.PCG64DXSM,
    }.get(name)
    if cls is None:
        raise Unencodable(f"unknown bit generator {name}")
    bits = cls()
    bits.state = peer.decode(state, depth + 1)
    return np.random.Generator(bits)


def _enc_randomstate(peer, value, depth):
    return ext(T_RANDOMSTATE, peer.encode(value.get_state(legacy=False), depth + 1))


def _dec_randomstate(peer, payload, depth):
    state = np.random.RandomState()
    state.set_state(peer.decode(payload, depth + 1))
    return state


def _dec_instance(peer, payload, depth):
    name, state = payload
    cls = peer.classes.get(name)
    if cls is None:
        raise Unencodable(f"unknown class {name}")
    obj = cls.__new__(cls)
    obj.__dict__.update({str(k): peer.decode(v, depth + 1) for k, v in state})
    return obj


def _dec_estimator(peer, payload, depth):
    import skops.io as sio  # noqa: PLC0415

    if peer.role == TRUSTED:
        return sio.loads(payload)  # skops' default trust only: raises on anything else
    return sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))


def _dec_handle(peer, payload, depth):
    ident, kind, is_callable = payload
    return peer.stub(int(ident), str(kind)[:100], bool(is_callable))


def _dec_ownref(peer, payload, depth):
    if payload not in peer.handles:
        raise Unencodable("unknown reference")
    return peer.handles[payload]


def _simple(code, to_payload):
    return lambda peer, v, d: ext(code, to_payload(v))


def _pandas_encoders():
    try:
        import pandas as pd  # noqa: PLC0415
    except ImportError:
        return {}
    return {
        pd.DataFrame: _enc_frame,
        pd.Series: _enc_series,
        pd.Timestamp: _simple(
            T_TIMESTAMP, lambda v: [v.value, None if v.tz is None else str(v.tz), v.unit]
        ),
        pd.Timedelta: _simple(T_TIMEDELTA, lambda v: [v.value, v.unit]),
        type(pd.NaT): _simple(T_NAT, lambda v: None),
        type(pd.NA): _simple(T_NA, lambda v: None),
    }


def _pandas_fallbacks():
    try:
        import pandas as pd  # noqa: PLC0415
    except ImportError:
        return []
    return [(pd.DataFrame, _enc_frame), (pd.Series, _enc_series), (pd.Index, _enc_index)]


def _dec_timestamp(peer, payload, depth):
    import pandas as pd  # noqa: PLC0415

    value, tz, unit = payload
    return (
        pd.Timestamp(int(value), tz=tz).as_unit(unit)
        if tz
        else pd.Timestamp(int(value)).as_unit(unit)
    )


def _dec_timedelta(peer, payload, depth):
    import pandas as pd  # noqa: PLC0415

    return pd.Timedelta(int(payload[0]), unit="ns").as_unit(payload[1])


def _dec_pandas_constant(name):
    def decode(peer, payload, depth):
        import pandas as pd  # noqa: PLC0415

        return getattr(pd, name)

    return decode


def _seq_decoder(kind):
    return lambda peer, p, d: kind(peer.decode(x, d + 1) for x in p)


def _dec_dict(peer, payload, depth):
    return {peer.decode(k, depth + 1): peer.decode(v, depth + 1) for k, v in payload}


ENCODERS = {
    tuple: _enc_seq(T_TUPLE),
    dict: _enc_dict,
    set: _enc_seq(T_SET),
    frozenset: _enc_seq(T_FROZENSET),
    complex: _simple(T_COMPLEX, lambda v: [v.real, v.imag]),
    np.ndarray: _enc_ndarray,
    np.dtype: _enc_dtype,
    type: _enc_type,
    np.random.Generator: _enc_generator,
    np.random.RandomState: _enc_randomstate,
    _dt.datetime: _simple(T_DATETIME, lambda v: v.isoformat()),
    _dt.date: _simple(T_DATE, lambda v: v.isoformat()),
    _dt.timedelta: _simple(T_PYTIMEDELTA, lambda v: [v.days, v.seconds, v.microseconds]),
    slice: lambda peer, v, d: ext(
        T_SLICE, [peer.encode(x, d + 1) for x in (v.start, v.stop, v.step)]
    ),
    range: _simple(T_RANGE, lambda v: [v.start, v.stop, v.step]),
    type(Ellipsis): _simple(T_ELLIPSIS, lambda v: None),
}
FALLBACK_ENCODERS = [
    (np.generic, _enc_npscalar),
    (np.dtype, _enc_dtype),
    (tuple, _enc_seq(T_TUPLE)),
    (dict, _enc_dict),
    (list, lambda peer, v, d: [peer.encode(x, d + 1) for x in v]),
]
_pandas_registered = False


def register_pandas() -> bool:
    """Add the pandas encoders once pandas is imported (a pandas value implies it is), so a
    kernel that never imports pandas never pays for it. True when they were just added."""
    global _pandas_registered
    if _pandas_registered or "pandas" not in sys.modules:
        return False
    _pandas_registered = True
    ENCODERS.update(_pandas_encoders())
    FALLBACK_ENCODERS.extend(_pandas_fallbacks())
    return True


DECODERS = {
    T_TUPLE: _seq_decoder(tuple),
    T_DICT: _dec_dict,
    T_SET: _seq_decoder(set),
    T_FROZENSET: _seq_decoder(frozenset),
    T_COMPLEX: lambda peer, p, d: complex(float(p[0]), float(p[1])),
    T_BIGINT: lambda peer, p, d: int(str(p)[:10_000]),
    T_NDARRAY: _dec_ndarray,
    T_OBJARRAY: _dec_objarray,
    T_NPSCALAR: _dec_npscalar,
    T_DTYPE: _dec_dtype,
    T_TYPE: _dec_type,
    T_FRAME: _dec_frame,
    T_SERIES: _dec_series,
    T_INDEX: _dec_index,
    T_TIMESTAMP: _dec_timestamp,
    T_TIMEDELTA: _dec_timedelta,
    T_NAT: _dec_pandas_constant("NaT"),
    T_NA: _dec_pandas_constant("NA"),
    T_DATETIME: lambda peer, p, d: _dt.datetime.fromisoformat(str(p)),
    T_DATE: lambda peer, p, d: _dt.date.fromisoformat(str(p)),
    T_PYTIMEDELTA: lambda peer, p, d: _dt.timedelta(int(p[0]), int(p[1]), int(p[2])),
    T_SLICE: lambda peer, p, d: slice(*(peer.decode(x, d + 1) for x in p)),
    T_RANGE: lambda peer, p, d: range(int(p[0]), int(p[1]), int(p[2])),
    T_ELLIPSIS: lambda peer, p, d: Ellipsis,
    T_GENERATOR: _dec_generator,
    T_RANDOMSTATE: _dec_randomstate,
    T_INSTANCE: _dec_instance,
    T_ESTIMATOR: _dec_estimator,
    T_HANDLE: _dec_handle,
    T_OWNREF: _dec_ownref,
    T_ITERATOR: lambda peer, p, d: iter([peer.decode(x, d + 1) for x in p]),
}
