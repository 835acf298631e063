"""Hostile submissions: none scores more than a blank one, and no hidden test text comes back.

Each technique below scored full marks when the tests ran in the submission's own kernel (and
still does under nbgrader 0.9.6). Now the tests run in a kernel the submission never touched.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from nbmaker import answer, autotest, code, notebook

from webapp.grading.autograde import GradeResult, _auto_points
from webapp.grading.notebook import Exercise, is_solution, read_notebook, student_version
from webapp.services.catalog.check import staged_data
from webapp.services.catalog.source import load_catalog

pytestmark = pytest.mark.sandbox

CANARY = "HIDDEN_CANARY_7731"
REPO = Path(__file__).resolve().parents[2]

SOURCE = notebook(
    code("import math\nimport numpy as np\nimport pandas as pd"),
    answer(
        "impl_mean",
        "def mean(xs):\n    ### BEGIN SOLUTION\n    return sum(xs) / len(xs)\n    ### END SOLUTION",
    ),
    autotest(
        "test_mean",
        "assert mean([1, 2, 3]) == 2\n"
        "### BEGIN HIDDEN TESTS\n"
        f"expected_mean = 6.0  # {CANARY}\n"
        "assert mean([4, 8]) == expected_mean\n"
        "assert np.allclose(mean([4, 8]), 6) and math.isclose(mean([1.5]), 1.5)\n"
        "assert isinstance(mean([1, 2]), float) and abs(mean([-2, -4])) == 3\n"
        "np.testing.assert_allclose(mean([0.5, 1.5]), 1.0)\n"
        "pd.testing.assert_series_equal(pd.Series([mean([1, 3])]), pd.Series([2.0]))\n"
        "from skillforge_checks import check_against_reference, reference\n"
        "check_against_reference(mean, reference.mean, lambda rng: (list(rng.normal(size=5)),))\n"
        "### END HIDDEN TESTS",
        points=2,
    ),
    autotest(
        "test_mean_partial",
        "score = 0\n"
        "### BEGIN HIDDEN TESTS\n"
        f"# {CANARY}\n"
        "if mean([10, 20]) == 15:\n    score += 1\n"
        "if mean([7]) == 7:\n    score += 1\n"
        "### END HIDDEN TESTS\n"
        "score",
        points=2,
    ),
)

STUB = "def mean(xs):\n    return 0\n"
HOSTILE = {
    "input transformer": (
        "get_ipython().input_transformers_cleanup.append(\n"
        "    lambda lines: ['pass\\n' if 'assert' in line else line for line in lines])\n" + STUB
    ),
    "custom exception handler": (
        "from IPython.core.interactiveshell import ExecutionResult\n"
        "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n"
        "ExecutionResult.success = property(lambda self: True)\n" + STUB
    ),
    "shadowed builtins": (
        "import builtins\n"
        "builtins.abs = lambda x: 3\nbuiltins.isinstance = lambda *a: True\n"
        "builtins.int = float\nabs = lambda x: 3\nisinstance = lambda *a: True\n" + STUB
    ),
    "always-equal object": (
        "class Yes:\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = object.__hash__\n"
        "def mean(xs):\n    return Yes()\n"
    ),
    "patched comparison functions": (
        "import math, numpy, numpy.testing, pandas.testing\n"
        "numpy.allclose = numpy.isclose = math.isclose = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "pandas.testing.assert_series_equal = lambda *a, **k: None\n" + STUB
    ),
    "rebound running score": (
        "import sys\n"
        "def mean(xs):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        frame.f_globals['score'] = float('nan')\n"
        "        frame.f_globals['expected_mean'] = 0\n"
        "        frame = frame.f_back\n"
        "    return 0\n"
    ),
    "reading the running test": (
        "import inspect, linecache\n"
        "get_ipython().events.register('pre_run_cell', lambda info: print(info.raw_cell))\n"
        "def mean(xs):\n"
        "    seen = [str(f.code_context) for f in inspect.stack()]\n"
        "    seen += [''.join(lines[2]) for lines in linecache.cache.values() if len(lines) > 2]\n"
        "    seen += list(get_ipython().user_ns.get('In', []))\n"
        "    raise ValueError(' '.join(seen))\n"
    ),
    "asking the checks for their values": (
        "import gc\n"
        "def mean(xs):\n"
        "    for peer in [o for o in gc.get_objects() if type(o).__name__ == 'Peer']:\n"
        "        try:\n"
        "            return peer.request('getglobal', 'expected_mean')\n"
        "        except Exception as exc:\n"
        "            print(exc)\n"
        "    return 0\n"
    ),
}


def submission(answer_source: str):
    nb = student_version(SOURCE)
    nb.cells[1].source = answer_source
    return nb


def leaked(result: GradeResult) -> bool:
    shown = json.dumps(result.feedback) + json.dumps(result.to_json())
    shown += " ".join(c.message or "" for c in result.cells.values())
    return CANARY in shown or "mean([4, 8]) ==" in shown


def test_the_reference_solution_scores_full_marks(grader):
    result = grader.grade(SOURCE, copy.deepcopy(SOURCE))
    assert (result.total, result.max_total) == (4.0, 4.0)
    assert not leaked(result)


def test_a_blank_submission_scores_nothing(grader):
    result = grader.grade(SOURCE, student_version(SOURCE))
    assert result.total == 0
    assert not leaked(result)


@pytest.mark.parametrize("technique", sorted(HOSTILE))
def test_a_hostile_submission_scores_no_more_than_a_blank_one(grader, technique):
    result = grader.grade(SOURCE, submission(HOSTILE[technique]))
    assert result.total == 0, {g: (c.points, c.message) for g, c in result.cells.items()}
    assert not leaked(result)


def test_a_failing_hidden_check_shows_only_its_exception_type(grader):
    result = grader.grade(SOURCE, submission("def mean(xs):\n    return 2.0\n"))
    cell = result.cells["test_mean"]
    assert (cell.points, cell.message) == (0.0, "a hidden check failed (AssertionError)")
    outputs = [o for c in result.feedback.cells for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert [e["evalue"] for e in errors] == ["a hidden check failed"]


def test_a_hard_coded_answer_to_leaked_inputs_fails_the_randomised_check(grader):
    hard_coded = (
        "def mean(xs):\n"
        "    known = {(1, 2, 3): 2.0, (4, 8): 6.0, (1.5,): 1.5, (1, 2): 1.5, (-2, -4): -3.0,\n"
        "             (0.5, 1.5): 1.0, (1, 3): 2.0, (10, 20): 15.0, (7,): 7.0}\n"
        "    return known.get(tuple(xs), 0.0)\n"
    )
    result = grader.grade(SOURCE, submission(hard_coded))
    assert result.cells["test_mean"].points == 0
    assert result.cells["test_mean_partial"].points == 2


@pytest.mark.parametrize(
    ("value", "points"),
    [
        ({"kind": "number", "value": "nan"}, 0.0),
        ({"kind": "number", "value": "inf"}, 0.0),
        ({"kind": "number", "value": -1.0}, 0.0),
        ({"kind": "number", "value": 2.5}, 0.0),
        ({"kind": "other", "type": "str"}, 0.0),
        ({"kind": "other", "type": "bool"}, 0.0),
        ({"kind": "number", "value": 1.5}, 1.5),
        ({"kind": "number", "value": 2.0}, 2.0),
        (None, 2.0),
    ],
)
def test_partial_credit_must_be_a_real_number_within_the_points(value, points):
    exercise = Exercise("t", 0, "auto", 2.0, None)
    assert _auto_points(exercise, value).points == points


def _workshop(slug: str, name: str):
    source_catalog, problems = load_catalog(REPO / "courses")
    assert source_catalog is not None, problems
    course = next(c for c in source_catalog.courses if c.slug == slug)
    path = course.folder / name
    return course, read_notebook(path.read_bytes())


ATTACK_ALL = (
    HOSTILE["input transformer"].replace(STUB, "")
    + HOSTILE["custom exception handler"].replace(STUB, "")
    + HOSTILE["patched comparison functions"].replace(STUB, "")
    + "import builtins\nbuiltins.isinstance = lambda *a: True\n"
)


@pytest.mark.parametrize(
    ("slug", "name"),
    [
        ("overfitting", "01-regularisation-and-cv.ipynb"),
        ("privacy", "01-pseudonymisation-k-anonymity.ipynb"),
    ],
)
def test_real_workshops_resist_a_combined_attack(grader, slug, name):
    course, source = _workshop(slug, name)
    blank = student_version(source)
    hostile = copy.deepcopy(blank)
    first = next(c for c in hostile.cells if is_solution(c))
    first.source = ATTACK_ALL + first.source
    with staged_data(course) as data_dir:
        blank_total = grader.grade(source, blank, data_dir=data_dir).total
        result = grader.grade(source, hostile, data_dir=data_dir)
    assert result.total <= blank_total
    hidden = [line for c in source.cells for line in _hidden_lines(c.source)]
    shown = json.dumps(result.feedback) + " ".join(c.message or "" for c in result.cells.values())
    assert not [line for line in hidden if line in shown]


def _hidden_lines(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.split("\n"):
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif inside and len(line.strip()) > 25:
            lines.append(line.strip())
    return lines
