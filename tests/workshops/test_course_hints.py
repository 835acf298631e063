"""Every auto-graded answer cell in courses/ has hints that sync accepts and that give nothing away.

Pure reads of the source notebooks: no grader, no database, a second for all of them.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode

from webapp.grading.notebook import grade_id, is_grade, is_solution
from webapp.grading.outline import hint_problem, hints_of
from webapp.services.catalog.source import course_folders

COURSES = Path(__file__).resolve().parents[2] / "courses"
NOTEBOOKS = [nb for folder in course_folders(COURSES) for nb in sorted(folder.glob("*.ipynb"))]
QUOTE_MIN = 26  # shorter lines (`return out`, `### END SOLUTION`) may appear in any hint


def _read(path: Path) -> NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def _auto_answers(nb: NotebookNode) -> list[NotebookNode]:
    """The auto-graded answer cells: nbgrader solution cells that are not graded themselves."""
    return [c for c in nb.cells if grade_id(c) is not None and is_solution(c) and not is_grade(c)]


def _region_lines(nb: NotebookNode, begin: str, end: str) -> set[str]:
    """The stripped lines, long enough to be a giveaway, between ``begin`` and ``end`` marks."""
    found = set()
    for cell in nb.cells:
        for part in str(cell.source).split(begin)[1:]:
            found |= {line.strip() for line in part.split(end)[0].splitlines()}
    return {line for line in found if len(line) >= QUOTE_MIN}


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_every_workshop_notebook_is_checked() -> None:
    assert len(NOTEBOOKS) >= 24, [_id(p) for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_every_auto_graded_answer_cell_has_hints_that_sync_accepts(path: Path) -> None:
    answers = _auto_answers(_read(path))
    assert answers, f"{_id(path)}: no auto-graded answer cell"
    problems = [f"{grade_id(c)}: {hint_problem(c)}" for c in answers if hint_problem(c)]
    missing = [grade_id(c) for c in answers if not hints_of(c)]
    assert not problems, problems
    assert not missing, f"{_id(path)}: answer cells without hints: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_no_hint_quotes_a_solution_or_hidden_test_line(path: Path) -> None:
    nb = _read(path)
    public = "\n".join(str(c.source) for c in nb.cells if c.cell_type == "markdown")
    secret = _region_lines(nb, "### BEGIN SOLUTION", "### END SOLUTION")
    secret |= _region_lines(nb, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
    secret = {line for line in secret if line not in public}  # the text already shows these
    quoted = [
        f"{grade_id(cell)}: {line}"
        for cell in _auto_answers(nb)
        for hint in hints_of(cell)
        for line in secret
        if line in hint
    ]
    assert not quoted, quoted
