"""Sanitise a submission as nbgrader's autograde does, before it is executed (pure functions)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from nbformat import NotebookNode

from webapp.grading.notebook import (
    grade_id,
    is_grade,
    is_managed,
    is_solution,
    is_task,
    student_version,
)
from webapp.grading.wellformed import metadata_problem


@dataclass(frozen=True)
class Prepared:
    """The notebook to execute, and what sanitising found."""

    notebook: NotebookNode
    tampered: tuple[str, ...]
    reinserted: tuple[str, ...]
    untouched_answers: frozenset[str]


def prepare(source: NotebookNode, submission: NotebookNode) -> Prepared:
    """Keep the student's answers and own cells; take everything else from the source.

    Like nbgrader's sanitize step: outputs are cleared, the kernelspec comes from the source,
    unknown or duplicated grade_ids lose their nbgrader metadata (the last duplicate wins), as do
    cells whose nbgrader metadata has the wrong JSON types (uploads refuse those; here they are
    plain cells, so the source's cell is put back), and
    every locked, test, task and read-only cell is restored from the source (hidden tests too),
    with points and flags reset. A grade_id is *tampered* when the student's copy of a restored
    cell differs from what was released. Improvement over nbgrader (``add_missing_cells`` off by
    default there): grade, task and read-only cells the student deleted are put back and graded.
    """
    released = {g: c for c in student_version(source).cells if (g := grade_id(c))}
    originals = {g: c for c in source.cells if is_managed(c) and (g := grade_id(c))}
    cells = _dedupe(copy.deepcopy(submission.cells), originals)
    tampered: list[str] = []
    untouched: set[str] = set()
    out: list[NotebookNode] = []
    for cell in cells:
        gid = grade_id(cell)
        if gid is None:
            out.append(cell)
        elif is_solution(originals[gid]):
            out.append(_answer(cell, originals[gid]))
            if cell.source == released[gid].source:
                untouched.add(gid)
        else:
            if _differs(cell, released[gid]):
                tampered.append(gid)
            out.append(copy.deepcopy(originals[gid]))
    reinserted = _reinsert_missing(out, source, originals)
    for cell in out:
        _clear_output(cell)
    notebook = copy.deepcopy(submission)
    notebook.cells = out
    notebook.metadata["kernelspec"] = copy.deepcopy(source.metadata.get("kernelspec", {}))
    return Prepared(notebook, tuple(tampered), tuple(reinserted), frozenset(untouched))


def _dedupe(cells: list[NotebookNode], originals: dict[str, NotebookNode]) -> list[NotebookNode]:
    """Strip nbgrader metadata from malformed cells, cells with unknown ids and all but the last
    duplicate."""
    for cell in cells:
        if metadata_problem(cell) is not None:
            cell.metadata.pop("nbgrader", None)
    last = {grade_id(c): i for i, c in enumerate(cells) if grade_id(c)}
    for index, cell in enumerate(cells):
        gid = grade_id(cell)
        if gid is not None and (gid not in originals or last[gid] != index):
            cell.metadata.pop("nbgrader", None)
    return cells


def _answer(cell: NotebookNode, original: NotebookNode) -> NotebookNode:
    """The student's text in the source's cell (type, metadata): a changed type is reverted."""
    answer = copy.deepcopy(original)
    answer.source = cell.source
    return answer


def _differs(cell: NotebookNode, released: NotebookNode) -> bool:
    return cell.source != released.source or cell.cell_type != released.cell_type


def _reinsert_missing(
    out: list[NotebookNode], source: NotebookNode, originals: dict[str, NotebookNode]
) -> list[str]:
    """Put back deleted graded/locked cells after the nearest preceding source cell present."""
    present = {grade_id(c) for c in out if grade_id(c)}
    reinserted: list[str] = []
    previous: str | None = None
    for cell in source.cells:
        gid = grade_id(cell) if is_managed(cell) else None
        if gid is None:
            continue
        if gid not in present and not is_solution(cell):
            position = _position_after(out, previous)
            out.insert(position, copy.deepcopy(originals[gid]))
            present.add(gid)
            if is_grade(cell) or is_task(cell):
                reinserted.append(gid)
        if gid in present:
            previous = gid
    return reinserted


def _position_after(out: list[NotebookNode], gid: str | None) -> int:
    if gid is None:
        return 0
    for index, cell in enumerate(out):
        if grade_id(cell) == gid:
            return index + 1
    return len(out)


def _clear_output(cell: NotebookNode) -> None:
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
