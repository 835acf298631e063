"""Shape checks before a notebook is trusted: JSON nesting depth, nbgrader metadata types.

Pure functions that never recurse, so a hostile file cannot exhaust the stack through them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 64  # a notebook is about 8 levels deep; widget state in metadata adds a few more
FLAGS = ("grade", "solution", "locked", "task")
# a whole JSON string (escapes included), or one bracket outside strings
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


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
