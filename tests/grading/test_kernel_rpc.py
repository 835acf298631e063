"""The value codec between the two kernels, run under the grading kernel's own Python."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

KERNEL_PYTHON = "/opt/skillforge/kernel/bin/python"
CASES = Path(__file__).parent / "kernel_side" / "rpc_cases.py"


@pytest.fixture(scope="module")
def results() -> dict:
    if not Path(KERNEL_PYTHON).exists():
        pytest.fail(f"{KERNEL_PYTHON} is missing: run bash .ci/setup")
    done = subprocess.run(
        [KERNEL_PYTHON, str(CASES)], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout)


ROUND_TRIP = [
    "none", "bool", "big int", "negative int", "nan", "inf", "text", "bytes", "list", "tuple",
    "dict with tuple keys", "set", "frozenset", "complex", "float array", "int8 array",
    "bool array", "datetime array", "structured array", "float16 scalar", "int64 scalar",
    "dtype", "numpy type", "python type", "frame", "object column frame", "series",
    "unnamed series", "index",
    "timestamp", "timedelta", "datetime", "date", "python timedelta", "slice", "range",
    "generator",
]  # fmt: skip


@pytest.mark.parametrize("case", ROUND_TRIP)
def test_data_arrives_equal_and_of_the_same_type(results, case):
    assert results["round_trip"][case] is True, results["round_trip"][case]


@pytest.mark.parametrize(
    ("case", "refusal"),
    [
        ("pickled npy", "ValueError"),
        ("too deep", "Unencodable"),
        ("unknown type code", "Unencodable"),
        ("unknown class", "Unencodable"),
        ("type outside numpy", "Unencodable"),
        ("unknown reference", "Unencodable"),
        ("plain map", "Unencodable"),
    ],
)
def test_crafted_messages_are_refused_not_decoded(results, case, refusal):
    assert results["hostile"][case] == refusal


@pytest.mark.parametrize(
    "case",
    [
        "float subclass arrives plain",
        "a RangeIndex stays a RangeIndex",
        "list subclass arrives plain",
        "the submission cannot read the checks' globals",
        "in-place changes are written back",
        "an unknown object arrives as a handle equal only to itself",
        "a built-in exception crosses as itself",
    ],
)
def test_peer_behaviour(results, case):
    assert results["behaviour"][case] is True
