"""The trusted side's contract with instructor tests (docs/authoring.md, "The trusted side")."""

from __future__ import annotations

import dataclasses

import pytest
from nbmaker import answer, autotest, code, notebook

from webapp.grading.autograde import ChecksFailed, Grader
from webapp.grading.notebook import student_version

pytestmark = pytest.mark.sandbox

SETUP = (
    "import numpy as np\nimport pandas as pd\n\n\n"
    "class Summary:\n"
    "    def __init__(self, count=0, total=0.0):\n"
    "        self.count, self.total = count, total\n\n"
    "    @property\n    def mean(self):\n        return self.total / self.count\n\n\n"
    "class Counted:\n"
    "    comparisons = 0\n\n"
    "    def __init__(self, value):\n        self.value = value\n\n"
    "    def __eq__(self, other):\n"
    "        Counted.comparisons += 1\n        return self.value == other.value\n\n"
    "    def __hash__(self):\n        return hash(self.value)\n"
)


def solution(name: str, body: str) -> str:
    return f"{name}\n    ### BEGIN SOLUTION\n{body}\n    ### END SOLUTION"


CELLS = {
    "scale": solution("def scale(xs, k):", "    return [x * k for x in xs]"),
    "summarise": solution(
        "def summarise(values):", "    return Summary(len(values), float(sum(values)))"
    ),
    "groups": solution(
        "def groups(items):",
        "    seen = {}\n    for i, item in enumerate(items):\n"
        "        seen.setdefault(item, []).append(i)\n"
        "    return [g for g in seen.values() if len(g) > 1]",
    ),
    "Stack": solution(
        "class Stack:",
        "    def __init__(self):\n        self.items = []\n\n"
        "    def push(self, x):\n        self.items.append(x)\n\n"
        "    def pop(self):\n        return self.items.pop()",
    ),
    "centre": solution("def centre(frame):", "    return frame - frame.mean()"),
    "draw": solution("def draw(rng, n):", "    return rng.normal(size=n)"),
    "apply": solution("def apply(fn, xs):", "    return [fn(x) for x in xs]"),
    "load": solution("def load(n):", "    return pd.DataFrame({'x': np.arange(n)}).sum()['x']"),
}
TESTS = {
    "scale": (
        "assert scale([1, 2], 3) == [3, 6]\n### BEGIN HIDDEN TESTS\n"
        "from skillforge_checks import check_against_reference, reference, call_many\n"
        "check_against_reference(scale, reference.scale,\n"
        "    lambda rng: (list(rng.integers(-9, 9, rng.integers(0, 8))),\n"
        "                 int(rng.integers(-3, 4))))\n"
        "assert call_many(scale, [([i], 2) for i in range(500)]) == [[2 * i] for i in range(500)]\n"
        "### END HIDDEN TESTS"
    ),
    "summarise": (
        "s = summarise([1.0, 2.0, 6.0])\n"
        "assert isinstance(s, Summary) and s.count == 3 and s.mean == 3.0"
    ),
    "groups": (
        "### BEGIN HIDDEN TESTS\nfrom skillforge_checks import by_reference\n"
        "items = [by_reference(Counted(v % 7)) for v in range(23)]\n"
        "Counted.comparisons = 0\n"
        "assert [len(g) for g in groups(items)] == [4, 4, 3, 3, 3, 3, 3]\n"
        "assert Counted.comparisons <= 2 * len(items), Counted.comparisons\n### END HIDDEN TESTS"
    ),
    "Stack": (
        "st = Stack()\nst.push(1)\nst.push(2)\nassert st.pop() == 2 and st.pop() == 1\n"
        "assert st != Stack()"
    ),
    "centre": (
        "frame = pd.DataFrame({'a': [1.0, 2.0, 3.0]})\nbefore = frame.copy()\n"
        "out = centre(frame)\nassert out['a'].tolist() == [-1.0, 0.0, 1.0]\n"
        "assert frame.equals(before), 'do not modify the frame'"
    ),
    "draw": (
        "gen = np.random.default_rng(5)\n"
        "first, second = draw(gen, 3), draw(gen, 3)\n"
        "assert not np.allclose(first, second), 'a shared generator advances'\n"
        "assert np.allclose(np.r_[first, second], np.random.default_rng(5).normal(size=6))"
    ),
    "apply": (
        "calls = []\n\ndef square(x):\n    calls.append(x)\n    return x * x\n\n"
        "assert apply(square, [1, 2, 3]) == [1, 4, 9] and calls == [1, 2, 3]"
    ),
    "load": (
        "### BEGIN HIDDEN TESTS\nfrom skillforge_checks import patch_answer, answer_global\n"
        "seen = []\noriginal = answer_global('pd.DataFrame')\n\n"
        "def spy(*args, **kwargs):\n    seen.append(1)\n    return original(*args, **kwargs)\n\n"
        "patch_answer('pd.DataFrame', spy)\ntry:\n    assert load(4) == 6\n"
        "finally:\n    patch_answer('pd.DataFrame', original)\n"
        "assert seen == [1], 'build one frame'\n### END HIDDEN TESTS"
    ),
}
WRONG = {
    "scale": "def scale(xs, k):\n    return [x * 3 for x in xs]\n",
    "summarise": "def summarise(values):\n    return (len(values), sum(values))\n",
    "groups": (
        "def groups(items):\n    out = []\n    for i, a in enumerate(items):\n"
        "        group = [j for j, b in enumerate(items) if a == b]\n"
        "        if len(group) > 1 and group[0] == i:\n            out.append(group)\n"
        "    return out\n"
    ),
    "Stack": (
        "class Stack:\n    def __init__(self):\n        self.items = []\n"
        "    def push(self, x):\n        self.items.insert(0, x)\n"
        "    def pop(self):\n        return self.items.pop()\n"
        "    def __eq__(self, other):\n        return False\n"
    ),
    "centre": (
        "def centre(frame):\n    frame['a'] = frame['a'] - frame['a'].mean()\n    return frame\n"
    ),
    "draw": "def draw(rng, n):\n    return np.random.default_rng(5).normal(size=n)\n",
    "apply": "def apply(fn, xs):\n    return [x * x for x in xs]\n",
    "load": (
        "def load(n):\n"
        "    return sum(range(n)) if n == 4 else pd.DataFrame({'x': range(n)})['x'].sum()\n"
    ),
}


def build():
    cells = [code(SETUP)]
    for name, body in CELLS.items():
        cells += [answer(f"impl_{name}", body), autotest(f"test_{name}", TESTS[name])]
    return notebook(*cells)


SOURCE = build()


@pytest.fixture(scope="module")
def reference(grader):
    return grader.grade(SOURCE, SOURCE)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_the_reference_solution_passes_each_check(reference, name):
    cell = reference.cells[f"test_{name}"]
    assert (cell.points, cell.message) == (1.0, None)


@pytest.fixture(scope="module")
def wrong(grader):
    submission = student_version(SOURCE)
    for cell in submission.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if gid.startswith("impl_"):
            cell.source = WRONG[gid[5:]]
    return grader.grade(SOURCE, submission)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_a_plausible_wrong_answer_fails_each_check(wrong, name):
    assert wrong.cells[f"test_{name}"].points == 0, wrong.cells[f"test_{name}"]


def test_checks_that_run_too_long_fail_the_grading_not_the_engineer(grader_config):
    stuck = "import time\nwhile True:\n    time.sleep(0.2)"
    source = notebook(
        answer("impl_one", solution("def one():", "    return 1")),
        autotest("test_one", f"assert one() == 1\n{stuck}"),
    )
    config = dataclasses.replace(grader_config, notebook_timeout=4, pool_size=2)
    with Grader(config) as grader, pytest.raises(ChecksFailed, match="ran past the notebook"):
        grader.grade(source, source)
