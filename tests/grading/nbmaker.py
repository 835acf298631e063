"""Builders for small nbgrader-format notebooks (tests and the reference script use them)."""

from __future__ import annotations

from typing import Any

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _nbgrader(grade_id: str, **flags: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"schema_version": 3, "grade": False, "solution": False}
    data.update({"locked": False, "task": False, "grade_id": grade_id}, **flags)
    return {"nbgrader": data}


def answer(grade_id: str, source: str) -> NotebookNode:
    """An autograded answer cell (solution, not graded)."""
    return new_code_cell(source, metadata=_nbgrader(grade_id, solution=True))


def autotest(
    grade_id: str, source: str, points: float = 1, skill: str | None = None
) -> NotebookNode:
    """An autograder test cell worth ``points``."""
    metadata = _nbgrader(grade_id, grade=True, locked=True, points=points)
    if skill:
        metadata["skillforge"] = {"skill": skill}
    return new_code_cell(source, metadata=metadata)


def manual(grade_id: str, source: str, points: float = 1, markdown: bool = True) -> NotebookNode:
    """A manually graded answer (markdown by default)."""
    metadata = _nbgrader(grade_id, grade=True, solution=True, points=points)
    make = new_markdown_cell if markdown else new_code_cell
    return make(source, metadata=metadata)


def task(grade_id: str, source: str, points: float = 1) -> NotebookNode:
    """A manually graded task cell."""
    metadata = _nbgrader(grade_id, task=True, locked=True, points=points)
    return new_markdown_cell(source, metadata=metadata)


def readonly(grade_id: str, source: str, markdown: bool = False) -> NotebookNode:
    """A read-only cell, restored from the source at grading."""
    make = new_markdown_cell if markdown else new_code_cell
    return make(source, metadata=_nbgrader(grade_id, locked=True))


def text(source: str) -> NotebookNode:
    return new_markdown_cell(source)


def code(source: str) -> NotebookNode:
    return new_code_cell(source)


def notebook(*cells: NotebookNode) -> NotebookNode:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def dumps(nb: NotebookNode) -> str:
    return nbformat.writes(nb)
