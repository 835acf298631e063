"""Worked examples: the instructor's outputs of a notebook's locked code cells.

A worked example is a code cell an engineer cannot edit and that is not a test: setup, a plot the
text refers to, a table to read. Its outputs come from running the instructor's notebook with the
solutions in place and every test cell left out (hidden tests never run for this, so nothing of
them can reach an output), in the same sandbox as grading. Outputs of answer cells are never kept:
they would show the solution's results. An author keeps a cell's outputs back with the metadata
``"skillforge": {"show_outputs": false}`` (for a cell whose output gives an answer away).

Pure functions over notebooks; executing is the grader's (``Grader.run_notebook``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import nbformat
from nbformat import NotebookNode

from webapp.grading.notebook import is_grade, is_solution

SHOW_OUTPUTS_KEY = "show_outputs"  # metadata.skillforge.show_outputs: false keeps outputs back


def shows_outputs(cell: NotebookNode) -> bool:
    """Whether a locked code cell's outputs are shown (the author's opt-out aside, always)."""
    extra = cell.get("metadata", {}).get("skillforge")
    return not (isinstance(extra, dict) and extra.get(SHOW_OUTPUTS_KEY) is False)


def is_worked_example(cell: NotebookNode) -> bool:
    """A code cell that is neither an answer nor a test, whose outputs the author shows."""
    return (
        cell.get("cell_type") == "code"
        and not is_solution(cell)
        and not is_grade(cell)
        and shows_outputs(cell)
    )


def show_outputs_problem(cell: NotebookNode) -> str | None:
    """What is wrong with a cell's ``show_outputs`` metadata, or None."""
    extra = cell.get("metadata", {}).get("skillforge")
    if not isinstance(extra, dict) or SHOW_OUTPUTS_KEY not in extra:
        return None
    if not isinstance(extra[SHOW_OUTPUTS_KEY], bool):
        return "metadata.skillforge.show_outputs must be true or false"
    return None


def example_run(source: NotebookNode) -> NotebookNode:
    """The notebook run for the outputs: the instructor's, solutions in place, test cells empty."""
    out = copy.deepcopy(source)
    for index, cell in enumerate(out.cells):
        if is_grade(cell) and not is_solution(cell):
            out.cells[index] = nbformat.v4.new_raw_cell("", metadata=cell.metadata)
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return out


@dataclass(frozen=True)
class WorkedOutputs:
    """Outputs by cell index of the worked examples, the errors among them, and their size."""

    cells: dict[int, list[dict[str, Any]]]
    errors: tuple[str, ...]
    size: int  # bytes of the outputs as JSON

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        return {str(index): outputs for index, outputs in self.cells.items()}


def collect(executed: NotebookNode, source: NotebookNode) -> WorkedOutputs:
    """The outputs of ``source``'s worked examples out of ``executed`` (its ``example_run``, run).

    A worked example that raised keeps its traceback (the author has a bug to fix) and is listed
    in ``errors`` as "cell N: Name: message"."""
    cells: dict[int, list[dict[str, Any]]] = {}
    errors: list[str] = []
    for index, cell in enumerate(source.cells):
        if not is_worked_example(cell) or index >= len(executed.cells):
            continue
        outputs = [_plain(o) for o in executed.cells[index].get("outputs", [])]
        if outputs:
            cells[index] = outputs
        for output in outputs:
            if output.get("output_type") == "error":
                errors.append(f"cell {index + 1}: {output.get('ename')}: {output.get('evalue')}")
    size = len(json.dumps({str(i): o for i, o in cells.items()}, separators=(",", ":")))
    return WorkedOutputs(cells, tuple(errors), size)


def with_outputs(
    student: dict[str, Any], outputs: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """A copy of the student version (nbformat JSON) with the stored outputs in their cells.

    Only cells that are still worked examples get outputs, whatever ``outputs`` says."""
    nb = copy.deepcopy(student)
    cells = nb.get("cells", [])
    for key, cell_outputs in outputs.items():
        index = int(key)
        if 0 <= index < len(cells) and is_worked_example(nbformat.from_dict(cells[index])):
            cells[index]["outputs"] = copy.deepcopy(cell_outputs)
    return nb


def _plain(output: NotebookNode) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(json.dumps(output))
    return value
