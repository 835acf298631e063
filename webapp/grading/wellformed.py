"""Shape checks before a notebook is trusted: JSON nesting depth, sizes, nbgrader metadata types.

Pure functions that never recurse, so a hostile file cannot exhaust the stack through them, and
that are linear in the notebook's size, so a huge one is refused before anything slower reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 64  # a notebook is about 8 levels deep; widget state in metadata adds a few more
FLAGS = ("grade", "solution", "locked", "task")
# a whole JSON string (escapes included), or one bracket outside strings
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


@dataclass(frozen=True)
class NotebookLimits:
    """The most one notebook may hold wherever it enters the app (NOTEBOOK_MAX_* in
    webapp/config.py): workshop notebooks have tens of cells of a few kB each."""

    max_cells: int = 1000
    max_source_bytes: int = 100_000  # one cell's source, UTF-8
    max_output_bytes: int = 1_000_000  # one output of a cell, as JSON
    max_depth: int = MAX_DEPTH  # JSON nesting, anywhere in the file


DEFAULT_LIMITS = NotebookLimits()


def size_problem(nb: Mapping[str, Any], limits: NotebookLimits = DEFAULT_LIMITS) -> str | None:
    """What makes the parsed notebook ``nb`` too large, in words that say what to do; None when
    it fits ``limits``. One pass over its cells (nbformat 4 ``cells`` or nbformat 3
    ``worksheets``); entries of the wrong shape are left for nbformat's validation to report.
    """
    cells = list(_cells(nb))
    if len(cells) > limits.max_cells:
        return (
            f"it has {len(cells):,} cells, more than the {limits.max_cells:,} a notebook may have. "
            "Remove the extra cells (or start again from a fresh copy of the notebook) and try "
            "again."
        )
    for index, cell in enumerate(cells):
        problem = _cell_size_problem(index, cell, limits)
        if problem is not None:
            return problem
    return None


def source_size_problem(where: str, source: str, limit: int) -> str | None:
    """``where`` ("Cell 3", "The answer 'impl_mean'") holds more than ``limit`` bytes of source."""
    size = len(source.encode("utf-8", errors="replace"))
    if size <= limit:
        return None
    return (
        f"{where} holds {size:,} bytes of source, more than the {limit:,} a cell may hold. "
        "Shorten it (keep data in files, not in the notebook) and try again."
    )


def answers_size_problem(answers: Mapping[str, str], limit: int) -> str | None:
    """The first of the engineer's answers (grade_id to text) over ``limit`` bytes, in words."""
    for grade_id, text in answers.items():
        problem = source_size_problem(f"Your answer '{grade_id[:80]}'", text, limit)
        if problem is not None:
            return problem
    return None


def _cells(nb: Mapping[str, Any]) -> Iterator[Any]:
    cells = nb.get("cells")
    if isinstance(cells, list):
        yield from cells
    worksheets = nb.get("worksheets")
    if isinstance(worksheets, list):
        for sheet in worksheets:
            if isinstance(sheet, Mapping) and isinstance(sheet.get("cells"), list):
                yield from sheet["cells"]


def _cell_size_problem(index: int, cell: Any, limits: NotebookLimits) -> str | None:
    if not isinstance(cell, Mapping):
        return None
    source = cell.get("source", cell.get("input", ""))
    if isinstance(source, list):
        source = "".join(part for part in source if isinstance(part, str))
    if isinstance(source, str):
        problem = source_size_problem(f"Cell {index + 1}", source, limits.max_source_bytes)
        if problem is not None:
            return problem
    outputs = cell.get("outputs")
    for output in outputs if isinstance(outputs, list) else ():
        size = len(
            json.dumps(output, ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8", errors="replace"
            )
        )
        if size > limits.max_output_bytes:
            return (
                f"Cell {index + 1} has an output of {size:,} bytes, more than the "
                f"{limits.max_output_bytes:,} one output may be. Clear that cell's outputs (in "
                "Jupyter: Edit > Clear Outputs of Selected Cells) and try again."
            )
    return None


def is_number(value: object) -> bool:
    """A JSON number (``true`` and ``false`` are not numbers, though Python's bools are ints)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def too_deep(text: str, limit: int = MAX_DEPTH) -> str | None:
    """Where the JSON ``text`` nests deeper than ``limit``: "cell N" (1-based), "the file", or
    None when it does not.

    One pass over the brackets outside strings, without parsing, so it runs before ``json.loads``
    (which, like nbformat's validator, recurses once per level). Invalid JSON is left for the
    parser to report.
    """
    depth = cell = 0
    cells_key = in_cells = False
    for match in _TOKEN.finditer(text):
        char = text[match.start()]
        if char == '"':
            if depth == 1:  # a key of the top-level object (values at this level are not strings)
                cells_key = match.group() == '"cells"'
            continue
        if char in "]}":
            depth -= 1
            continue
        depth += 1
        if depth == 2:
            in_cells = cells_key and char == "["
        elif depth == 3 and in_cells:
            cell += 1
        if depth > limit:
            return f"cell {cell}" if in_cells else "the file"
    return None


def metadata_problem(cell: Mapping[str, Any]) -> str | None:
    """What is wrong with the JSON types of the cell's ``metadata.nbgrader``, in words; None when
    nothing is (or the cell has no nbgrader metadata).

    These are the types nbgrader's own schema (version 3) requires: an object whose grade_id is
    text, whose points are a number and whose grade/solution/locked/task flags are booleans;
    except that null points read as no points (a source cell then reports "without points").
    """
    metadata = cell.get("metadata")
    if not isinstance(metadata, Mapping) or "nbgrader" not in metadata:
        return None
    data = metadata["nbgrader"]
    if not isinstance(data, Mapping):
        return f"nbgrader metadata is {_shown(data)}, not an object"
    if "grade_id" in data and not isinstance(data["grade_id"], str):
        return f"nbgrader grade_id is {_shown(data['grade_id'])}, not text"
    if data.get("points") is not None and not is_number(data["points"]):
        return f"nbgrader points are {_shown(data['points'])}, not a number"
    for flag in FLAGS:
        if flag in data and not isinstance(data[flag], bool):
            return f"nbgrader flag '{flag}' is {_shown(data[flag])}, not true or false"
    return None


def _shown(value: object) -> str:
    """A JSON value as people read it: its kind, and the value itself when it is short."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)  # null, true, false
    if isinstance(value, str):
        text = json.dumps(value if len(value) <= 40 else value[:40] + "…", ensure_ascii=False)
        return f"the text {text}"
    if is_number(value):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, Mapping) else f"a {type(value).__name__}"


def cell_label(index: int, cell: Mapping[str, Any]) -> str:
    """The cell as people find it in Jupyter: its 1-based number, and its grade_id if usable."""
    data = cell.get("metadata", {}).get("nbgrader")
    gid = data.get("grade_id") if isinstance(data, Mapping) else None
    return (
        f"Cell {index + 1} (grade_id '{gid}')"
        if isinstance(gid, str) and gid
        else f"Cell {index + 1}"
    )


def metadata_problems(cells: list[Any]) -> list[str]:
    """One sentence per cell whose nbgrader metadata has the wrong types, naming the cell."""
    found = []
    for index, cell in enumerate(cells):
        problem = metadata_problem(cell)
        if problem is not None:
            found.append(f"{cell_label(index, cell)}: {problem}.")
    return found
