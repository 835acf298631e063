"""The trusted checking side: runs the instructor's cells and tests, never a submission's text.

This module never runs in the app: the grader sends its source into a fresh sandboxed kernel,
after ``kernel_rpc``. It asks the grader for the plan (the instructor's cells in order), executes
instructor cells in its own namespace, binds each name an answer cell defines (by the reference
solution's own definitions) to the submission's value or a handle to it, and runs every test
cell statement by statement. Output and errors of statements inside or after a hidden-test
region are never reported; the grader receives one event per test cell.

It also provides the checking library that hidden tests import as ``skillforge_checks``.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import io
import json
import math
import os
import sys
import types

import numpy as np

MAX_STREAM = 20_000


class Capped(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int = MAX_STREAM) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        body = "".join(self.parts)
        if self.dropped:
            body += f"\n[output truncated: {self.dropped:,} more characters]\n"
        return body


class Redirect:
    def __init__(self, out, err) -> None:
        self.out, self.err = out, err

    def __enter__(self):
        self.saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.out, self.err

    def __exit__(self, *exc) -> None:
        sys.stdout, sys.stderr = self.saved


class Runner:
    """Runs the plan the grader sends: one namespace for checks, one for reference solutions."""

    def __init__(self, rpc, ask, plan: dict) -> None:
        self.rpc = rpc
        self.ask = ask
        self.plan = plan
        self.namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.references: dict = {}
        self.classes: dict = {}
        self.peer = rpc.Peer(rpc.TRUSTED, self._to_student, self.namespace, self.classes)
        self.checks = make_checks(self, int(plan.get("seed", 0)))
        sys.modules["skillforge_checks"] = self.checks

    def _to_student(self, message: str) -> str:
        reply = self.ask("rpc:" + message)
        return reply[4:] if reply.startswith("rpc:") else reply

    def event(self, payload: dict) -> str:
        return self.ask("event:" + json.dumps(payload, default=str))

    def run(self) -> None:
        for cell in self.plan["cells"]:
            kind = cell["kind"]
            self.event({"event": "begin", "index": cell["index"], "test": kind == "test"})
            if kind == "instructor":
                self.instructor(cell)
            elif kind == "answer":
                self.answer(cell)
            else:
                self.event(self.test(cell))
        self.event({"event": "finished"})

    def quietly(self, source: str, namespace: dict, name: str) -> str | None:
        """Execute instructor code with its output discarded; the error line, if any."""
        sink = Capped(0)
        try:
            with Redirect(sink, sink):
                exec(compile(source, name, "exec"), namespace)  # noqa: S102 - instructor code
        except BaseException as exc:  # noqa: BLE001 - reported to the grader's log
            return f"{type(exc).__name__}: {exc}"[:500]
        finally:
            _close_figures()
        return None

    def instructor(self, cell: dict) -> None:
        error = self.quietly(cell["source"], self.namespace, f"<cell {cell['index'] + 1}>")
        for name, value in list(self.namespace.items()):
            if isinstance(value, type) and value.__module__ == "__main__":
                self.classes.setdefault(name, value)
        if error:
            self.event({"event": "note", "index": cell["index"], "error": error})

    def answer(self, cell: dict) -> None:
        reference = dict(self.namespace)
        reference.update(self.references)
        self.quietly(cell["source"], reference, f"<reference {cell['index'] + 1}>")
        for name in cell["names"]:
            if name in reference and not isinstance(reference[name], types.ModuleType):
                self.references[name] = reference[name]
                setattr(self.checks.__dict__["reference"], name, reference[name])
            try:
                self.namespace[name] = self.peer.request("getglobal", name)
            except Exception:  # noqa: BLE001 - not defined there, or the kernel is gone
                self.namespace.pop(name, None)

    def test(self, cell: dict) -> dict:
        hidden_ranges = [tuple(r) for r in cell["hidden"]]
        out, err = Capped(), Capped()
        report = {"event": "cell", "index": cell["index"], "status": "ok", "result": None}
        try:
            statements = ast.parse(cell["source"]).body
        except SyntaxError as exc:
            return {**report, "status": "error", "ename": "SyntaxError", "evalue": str(exc)}
        hidden = False
        value = None
        for position, statement in enumerate(statements):
            hidden = hidden or _overlaps(statement, hidden_ranges)
            last = position == len(statements) - 1
            try:
                value = self.statement(statement, out, err, hidden, last)
            except BaseException as exc:  # noqa: BLE001 - a failed test, reported as data
                report.update(_failure(exc, hidden, self.rpc))
                break
        report["stdout"], report["stderr"] = out.text(), err.text()
        if report["status"] == "ok":
            report["result"] = _describe_result(value)
            if value is not None and not hidden:
                report["display"] = _safe_repr(value)
        return report

    def statement(self, statement, out, err, hidden: bool, last: bool):
        sink = Capped(0) if hidden else None
        name = "<test>"
        with Redirect(sink or out, sink or err):
            try:
                if last and isinstance(statement, ast.Expr):
                    code = compile(ast.Expression(statement.value), name, "eval")
                    return eval(code, self.namespace)  # noqa: S307 - instructor code
                module = ast.Module(body=[statement], type_ignores=[])
                exec(compile(module, name, "exec"), self.namespace)  # noqa: S102
                return None
            finally:
                _close_figures()


def _overlaps(statement, ranges) -> bool:
    first, last = statement.lineno, getattr(statement, "end_lineno", statement.lineno)
    return any(first <= end and start <= last for start, end in ranges)


def _failure(exc: BaseException, hidden: bool, rpc) -> dict:
    gone = isinstance(exc, rpc.PeerGone)
    failure = {"status": "error", "ename": type(exc).__name__, "hidden": hidden, "gone": gone}
    if gone:
        failure["evalue"] = str(exc)[:500]
    elif not hidden:
        try:
            failure["evalue"] = str(exc)[:2000]
        except Exception:  # noqa: BLE001
            failure["evalue"] = ""
    return failure


def _describe_result(value) -> dict | None:
    """What the grader needs of a test cell's final value: is it a usable partial-credit score."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return {"kind": "other", "type": "bool"}
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return {"kind": "number", "value": number if math.isfinite(number) else str(number)}
    return {"kind": "other", "type": type(value).__name__[:100]}


def _safe_repr(value) -> str:
    try:
        return repr(value)[:MAX_STREAM]
    except Exception:  # noqa: BLE001
        return f"<{type(value).__name__}>"


def _close_figures() -> None:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        with contextlib.suppress(Exception):
            pyplot.close("all")


# --- the checking library -------------------------------------------------------------------------


def make_checks(runner: Runner, seed: int) -> types.ModuleType:
    """``skillforge_checks``: what hidden tests may use on the trusted side."""
    module = types.ModuleType("skillforge_checks")
    module.__doc__ = "Checks that compare answers with the reference solution on fresh inputs."
    exported: dict[str, object] = {"reference": types.SimpleNamespace(), "seed": seed}
    streams = iter(range(1, 1_000_000))

    def submission_rng() -> np.random.Generator:
        """A generator seeded for this submission only: inputs differ at every grading."""
        return np.random.default_rng([seed, next(streams)])

    def check_against_reference(
        answer, reference, inputs, n: int = 20, compare=None, rtol=1e-7, atol=1e-9
    ) -> None:
        """Call ``answer`` and ``reference`` on ``n`` inputs drawn by ``inputs(rng)``.

        ``inputs`` returns a tuple of positional arguments or a dict of keyword arguments.
        Raises AssertionError at the first input where the results differ.
        """
        rng = submission_rng()
        for k in range(n):
            args, kwargs = _arguments(inputs(rng))
            expected = reference(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            got = answer(*args, **kwargs)
            try:
                if compare is None:
                    assert_equivalent(got, expected, rtol=rtol, atol=atol)
                elif compare(got, expected) is False:
                    raise AssertionError("compare() returned False")
            except AssertionError as exc:
                raise AssertionError(
                    f"the answer differs from the reference solution on generated input "
                    f"{k + 1} of {n}: {exc}"
                ) from None

    def call_many(answer, calls) -> list:
        """``[answer(*args) for args in calls]`` in one round trip (each call's own arguments).

        Each item is a tuple of positional arguments or a dict of keywords; nothing is written
        back. For statistical checks that need thousands of calls.
        """
        batch = [list(_arguments(item)) for item in calls]
        return runner.peer.request("map", answer, batch)

    def answer_global(path: str):
        """The submission's object at ``path`` (``name`` or ``module.attr``), as data or handle."""
        return runner.peer.request("getglobal", path)

    def patch_answer(path: str, value) -> None:
        """Rebind ``path`` in the submission's namespace, e.g. to a spy the check passes."""
        runner.peer.request("setglobal", path, value)

    exported.update(
        submission_rng=submission_rng,
        check_against_reference=check_against_reference,
        assert_equivalent=assert_equivalent,
        answer_global=answer_global,
        call_many=call_many,
        patch_answer=patch_answer,
        by_reference=runner.rpc.ByReference,
    )
    module.__dict__.update(exported)
    return module


def _arguments(drawn) -> tuple[tuple, dict]:
    if isinstance(drawn, dict):
        return (), drawn
    if isinstance(drawn, tuple):
        return drawn, {}
    return (drawn,), {}


def assert_equivalent(got, expected, rtol: float = 1e-7, atol: float = 1e-9, path: str = "result"):
    """Raise AssertionError unless ``got`` equals ``expected`` (numbers within tolerance)."""
    import pandas as pd  # noqa: PLC0415

    if isinstance(expected, pd.DataFrame | pd.Series | pd.Index):
        _assert_pandas(got, expected, rtol, atol, path)
    elif isinstance(expected, np.ndarray) or isinstance(got, np.ndarray):
        _assert_arrays(got, expected, rtol, atol, path)
    elif isinstance(expected, dict | list | tuple):
        _assert_containers(got, expected, rtol, atol, path)
    elif _is_number(expected) and _is_number(got):
        g, e = float(got), float(expected)
        close = math.isclose(g, e, rel_tol=rtol, abs_tol=atol)
        if not (close or (math.isnan(g) and math.isnan(e))):
            raise AssertionError(f"{path}: expected {e!r}, got {g!r}")
    elif type(got) is not type(expected):
        raise AssertionError(f"{path}: expected a {type(expected).__name__}")
    elif not bool(got == expected):
        raise AssertionError(f"{path}: expected {expected!r}")


def _assert_containers(got, expected, rtol, atol, path) -> None:
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            raise AssertionError(f"{path}: expected a dict with keys {sorted(map(str, expected))}")
        for key in expected:
            assert_equivalent(got[key], expected[key], rtol, atol, f"{path}[{key!r}]")
        return
    if not isinstance(got, list | tuple) or len(got) != len(expected):
        raise AssertionError(f"{path}: expected a sequence of length {len(expected)}")
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert_equivalent(g, e, rtol, atol, f"{path}[{i}]")


def _is_number(value) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _assert_arrays(got, expected, rtol, atol, path) -> None:
    try:
        g, e = np.asarray(got), np.asarray(expected)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"{path}: not an array") from exc
    if g.shape != e.shape:
        raise AssertionError(f"{path}: expected shape {e.shape}, got {g.shape}")
    if e.dtype.kind in "fc" or g.dtype.kind in "fc":
        ok = np.allclose(g.astype(float), e.astype(float), rtol=rtol, atol=atol, equal_nan=True)
    else:
        ok = bool(np.array_equal(g, e))
    if not ok:
        raise AssertionError(f"{path}: the values differ")


def _assert_pandas(got, expected, rtol, atol, path) -> None:
    import pandas as pd  # noqa: PLC0415

    try:
        if isinstance(expected, pd.DataFrame):
            pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=rtol, atol=atol)
        elif isinstance(expected, pd.Series):
            pd.testing.assert_series_equal(got, expected, check_exact=False, rtol=rtol, atol=atol)
        else:
            pd.testing.assert_index_equal(got, expected, exact=False)
    except AssertionError as exc:
        first = str(exc).strip().split("\n", 1)[0]
        raise AssertionError(f"{path}: {first}") from None


def main(rpc) -> None:
    """Entry point: the grader runs this as the kernel's only request, with stdin allowed."""
    ask = builtins.input
    # Figures the instructor's cells draw here are never shown: a backend that draws nowhere. Set
    # by name when matplotlib is not imported yet, so a notebook without plots never imports it.
    if "matplotlib" in sys.modules:
        with contextlib.suppress(Exception):
            sys.modules["matplotlib"].use("Agg")
    else:
        os.environ["MPLBACKEND"] = "Agg"
    sys.stdout = sys.stderr = Capped(0)  # test output is captured per statement; the rest dropped
    plan = json.loads(ask("event:" + json.dumps({"event": "ready"})))
    Runner(rpc, ask, plan).run()
