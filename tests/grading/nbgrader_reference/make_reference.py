"""Build the nbgrader-equivalence fixtures and score them with the real ``nbgrader autograde``.

Run with a Python that has nbgrader 0.9.x (not the app's venv), e.g.:

    python3 -m venv /tmp/nbg && /tmp/nbg/bin/pip install "nbgrader>=0.9,<0.10"
    PATH=/tmp/nbg/bin:$PATH /tmp/nbg/bin/python tests/grading/nbgrader_reference/make_reference.py

It writes ``fixtures/source.ipynb`` (the instructor notebook), ``fixtures/<case>.ipynb`` (student
submissions, built from nbgrader's own release version) and ``expected.json`` (nbgrader's per-cell
scores and totals per case; ``error`` when nbgrader failed the whole notebook).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
CELL_TIMEOUT = 3  # seconds; Skillforge's test uses the same per-cell limit
NAME, ASSIGNMENT = "ml_basics", "ps1"

MEAN = "def mean(xs):\n    ### BEGIN SOLUTION\n    return sum(xs) / len(xs)\n    ### END SOLUTION"
CLEAN = (
    "def clean(rows):\n    ### BEGIN SOLUTION\n"
    "    return [r for r in rows if r is not None]\n    ### END SOLUTION"
)
MEAN_TESTS = (
    "assert mean([1, 2, 3]) == 2\n### BEGIN HIDDEN TESTS\nassert mean([4]) == 4\n"
    "### END HIDDEN TESTS"
)
CLEAN_TESTS = (
    "cases = [([1, None], [1]), ([None], []), ([2, 3], [2, 3])]\n"
    "float(sum(clean(i) == o for i, o in cases))"
)
SPREAD_TESTS = "assert mean([2, 4]) == 3\nassert mean([10]) == 10"


def meta(grade_id: str, **flags: object) -> dict[str, object]:
    data: dict[str, object] = {"schema_version": 3, "grade": False, "solution": False}
    data.update({"locked": False, "task": False, "grade_id": grade_id}, **flags)
    return {"nbgrader": data}


def source_notebook() -> nbformat.NotebookNode:
    test = {"grade": True, "locked": True}
    cells = [
        new_markdown_cell("# Basics\nWrite `mean` and `clean`."),
        new_code_cell("TOLERANCE = 1e-9", metadata=meta("setup", locked=True)),
        new_code_cell(MEAN, metadata=meta("mean", solution=True)),
        new_code_cell(MEAN_TESTS, metadata=meta("mean_tests", points=2, **test)),
        new_code_cell(CLEAN, metadata=meta("clean", solution=True)),
        new_code_cell(CLEAN_TESTS, metadata=meta("clean_tests", points=3, **test)),
        new_markdown_cell(
            "### BEGIN SOLUTION\nIt drops missing rows.\n### END SOLUTION",
            metadata=meta("explain", grade=True, solution=True, points=1),
        ),
        new_code_cell(SPREAD_TESTS, metadata=meta("spread_tests", points=1, **test)),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


GOOD_MEAN = "def mean(xs):\n    return sum(xs) / len(xs)"
GOOD_CLEAN = "def clean(rows):\n    return [r for r in rows if r is not None]"
CASES: dict[str, dict[str, str]] = {
    "correct": {"mean": GOOD_MEAN, "clean": GOOD_CLEAN},
    "blank": {},
    "partly_correct": {"mean": GOOD_MEAN, "clean": "def clean(rows):\n    return rows"},
    "partial_credit": {
        "mean": GOOD_MEAN,
        "clean": "def clean(rows):\n    return [r for r in rows if r is not None][:1]",
    },
    "tampered": {"mean": "def mean(xs):\n    return 0", "mean_tests": "pass"},
    "raising": {"mean": 'def mean(xs):\n    raise ValueError("no mean today")'},
    "timing_out": {"mean": "def mean(xs):\n    while True:\n        pass", "clean": GOOD_CLEAN},
    "stderr_warning": {
        "mean": 'import sys\n\n\ndef mean(xs):\n    print("computing", file=sys.stderr)\n'
        "    return sum(xs) / len(xs)",
        "clean": GOOD_CLEAN,
    },
    "deleted_test": {"mean": "def mean(xs):\n    return 0", "clean": GOOD_CLEAN},
    "manual_answer": {"mean": GOOD_MEAN, "clean": GOOD_CLEAN, "explain": "None rows are removed."},
    "partial_overflow": {
        "mean": GOOD_MEAN,
        "clean": "class Always:\n    def __eq__(self, other):\n        return 5\n\n\n"
        "def clean(rows):\n    return Always()",
    },
}


def submission(release: nbformat.NotebookNode, case: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(release)
    edits = CASES[case]
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in edits:
            cell.source = edits[gid]
        if case == "tampered" and gid == "mean_tests":
            cell.metadata.nbgrader["points"] = 100
    if case == "deleted_test":
        nb.cells = [
            c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "mean_tests"
        ]
    return nb


def nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [str(Path(sys.executable).parent / "nbgrader"), *args]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)


def scores(root: Path, student: str) -> dict[str, object]:
    from nbgrader.api import Gradebook, MissingEntry  # noqa: PLC0415 - only in nbgrader's venv

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            nb = gb.find_submission_notebook(NAME, ASSIGNMENT, student)
        except MissingEntry:
            return {"error": "nbgrader recorded no grade for this notebook"}
        cells = {
            g.name: {
                "points": g.score if not g.needs_manual_grade else None,
                "max_points": g.max_score,
            }
            for g in nb.grades
        }
        return {"total": nb.score, "max": nb.max_score, "cells": cells}


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="nbgref-"))
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.Execute.timeout = {CELL_TIMEOUT}\n"
    )
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(source_notebook(), root / "source" / ASSIGNMENT / f"{NAME}.ipynb")
    done = nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    if done.returncode:
        sys.exit(done.stderr)
    release = nbformat.read(root / "release" / ASSIGNMENT / f"{NAME}.ipynb", as_version=4)
    shutil.rmtree(FIXTURES, ignore_errors=True)
    FIXTURES.mkdir()
    nbformat.write(source_notebook(), FIXTURES / "source.ipynb")
    nbformat.write(release, FIXTURES / "release.ipynb")
    expected: dict[str, object] = {"nbgrader_version": _version(), "cell_timeout": CELL_TIMEOUT}
    for case in CASES:
        nb = submission(release, case)
        nbformat.write(nb, FIXTURES / f"{case}.ipynb")
        folder = root / "submitted" / case / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{NAME}.ipynb")
        nbgrader(root, "autograde", ASSIGNMENT, "--student", case, "--create", "--force")
        expected[case] = scores(root, case)
        print(case, json.dumps(expected[case]))
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(root)


def _version() -> str:
    import nbgrader as package  # noqa: PLC0415

    return str(package.__version__)


if __name__ == "__main__":
    main()
