"""nbgrader-format notebooks: parsing, cell rules, student versions, checksums (pure functions)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import nbformat
from nbformat import NotebookNode

from webapp.grading.wellformed import (
    DEFAULT_LIMITS,
    NotebookLimits,
    is_number,
    size_problem,
    too_deep,
)

SCHEMA_VERSION = 3
GRADE_ID_RE = re.compile(r"^[a-zA-Z0-9_-]+$")
BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
BEGIN_MARK_SCHEME, END_MARK_SCHEME = "BEGIN MARK SCHEME", "END MARK SCHEME"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = "YOUR ANSWER HERE"
HINTS_KEY = "hints"  # metadata.skillforge.hints: an answer cell's hints (see grading/outline.py)


class InvalidNotebook(ValueError):
    """The data is not a notebook, or not a usable one; the message says why, for users."""


@dataclass(frozen=True)
class Problem:
    """One authoring mistake in a source notebook; ``cell`` is 0-based, None for the file."""

    file: str
    cell: int | None
    grade_id: str | None
    message: str

    def __str__(self) -> str:
        """Printed with a 1-based cell number, as people count cells in Jupyter."""
        where = self.file
        if self.cell is not None:
            where += f", cell {self.cell + 1}"
        if self.grade_id:
            where += f" (grade_id '{self.grade_id}')"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Exercise:
    """One scored cell of a source notebook: an autograded test, a manual answer or a task."""

    grade_id: str
    cell_index: int
    kind: Literal["auto", "manual", "task"]
    points: float
    skill: str | None


# --- cell predicates (nbgrader semantics) -------------------------------------------------------


def meta(cell: NotebookNode) -> dict[str, Any]:
    """The cell's nbgrader metadata, or an empty dict."""
    value = cell.get("metadata", {}).get("nbgrader", {})
    return value if isinstance(value, dict) else {}


def is_grade(cell: NotebookNode) -> bool:
    return bool(meta(cell).get("grade", False))


def is_solution(cell: NotebookNode) -> bool:
    return bool(meta(cell).get("solution", False))


def is_task(cell: NotebookNode) -> bool:
    return bool(meta(cell).get("task", False))


def is_locked(cell: NotebookNode) -> bool:
    """nbgrader's rule: solution cells never, other grade cells always, else the ``locked`` flag."""
    if not meta(cell) or is_solution(cell):
        return False
    return True if is_grade(cell) else bool(meta(cell).get("locked", False))


def is_managed(cell: NotebookNode) -> bool:
    """A cell nbgrader tracks: graded, answer, task or read-only."""
    return is_grade(cell) or is_solution(cell) or is_task(cell) or is_locked(cell)


def grade_id(cell: NotebookNode) -> str | None:
    value = meta(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def points(cell: NotebookNode) -> float:
    """Points of a grade or task cell (0 when absent or not a number)."""
    value = meta(cell).get("points", 0)
    return float(value) if is_number(value) else 0.0


def compute_checksum(cell: NotebookNode) -> str:
    """nbgrader's cell checksum: md5 over source, type, flags, grade_id and (grade cells) points.

    The same digest as ``nbgrader.utils.compute_checksum``, so checksums in released notebooks
    agree whichever tool generated them.
    """
    parts = [cell.source, cell.cell_type, str(is_grade(cell)), str(is_solution(cell))]
    parts += [str(is_locked(cell)), grade_id(cell) or ""]
    if is_grade(cell):
        parts.append(str(points(cell)))
    digest = hashlib.md5(usedforsecurity=False)
    for part in parts:
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


# --- delimited regions ----------------------------------------------------------------------------


class RegionError(ValueError):
    """A BEGIN/END region is nested or never closed."""


def replace_regions(
    source: str, begin: str, end: str, stub: tuple[str, ...] = ()
) -> tuple[str, bool]:
    """Replace every ``begin``..``end`` region (marker lines included) by ``stub`` lines.

    Stub lines get the indentation of the BEGIN line. Returns the new source and whether a
    region was found. Raises RegionError for a nested BEGIN or a region that is never closed.
    """
    kept: list[str] = []
    inside = found = False
    for line in source.split("\n"):
        if begin in line:
            if inside:
                raise RegionError(f"'{begin}' inside another '{begin}' region")
            inside = found = True
            indent = line[: len(line) - len(line.lstrip())]
            kept += [indent + s for s in stub]
        elif end in line:
            inside = False
        elif not inside:
            kept.append(line)
    if inside:
        raise RegionError(f"'{begin}' region is never closed ('{end}' missing)")
    return "\n".join(kept), found


def has_region(source: str, begin: str) -> bool:
    return any(begin in line for line in source.split("\n"))


# --- reading and validating -----------------------------------------------------------------------


def read_notebook(data: str | bytes, limits: NotebookLimits = DEFAULT_LIMITS) -> NotebookNode:
    """Parse and validate an .ipynb document (upgraded to nbformat 4), held to ``limits``.

    Raises InvalidNotebook("not JSON: ...") or InvalidNotebook("not a valid notebook: ..."), the
    latter also for a document nested deeper than ``limits.max_depth``; and InvalidNotebook
    saying what to do for one over ``limits``' sizes. Linear in the file's size, and the checks
    run cheapest first: the cell count right after parsing (the parser refuses thousands of
    levels of nesting by itself), then the cells' sizes and the depth in one pass each, and only
    then nbformat's validation, which recurses once per level and takes seconds on a notebook of
    many thousand cells.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidNotebook(f"not JSON: the file is not UTF-8 text ({exc.reason})") from exc
    try:
        parsed = json.loads(data)
    except RecursionError:
        raise _too_deep(too_deep(data, limits.max_depth) or "the file", limits) from None
    except ValueError as exc:
        raise InvalidNotebook(f"not JSON: {exc}") from exc
    if not isinstance(parsed, dict) or "nbformat" not in parsed:
        raise InvalidNotebook("not a valid notebook: no 'nbformat' version field")
    too_large = size_problem(parsed, limits)
    if too_large is not None:
        raise InvalidNotebook(too_large)
    where = too_deep(data, limits.max_depth)
    if where is not None:
        raise _too_deep(where, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat repairs missing cell ids, with a warning
            nb = nbformat.reads(data, as_version=4)
            nbformat.validate(nb)
    except Exception as exc:  # nbformat raises many types (ValidationError, KeyError, ...)
        raise InvalidNotebook(f"not a valid notebook: {_short(exc)}") from exc
    return nb


def _too_deep(where: str, limits: NotebookLimits) -> InvalidNotebook:
    return InvalidNotebook(
        f"not a valid notebook: {where} is nested more than {limits.max_depth} levels deep, which "
        "no notebook needs. Clear its outputs and metadata (or copy your work into a fresh "
        "notebook) and try again."
    )


def _short(exc: Exception) -> str:
    return str(exc).strip().split("\n", 1)[0][:300] or type(exc).__name__


# --- exercises and the student version ----------------------------------------------------------


def exercises(nb: NotebookNode) -> list[Exercise]:
    """The scored cells (grade and task cells) of a source notebook, in notebook order."""
    found: list[Exercise] = []
    for index, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        if gid is None or not (is_grade(cell) or is_task(cell)):
            continue
        kind: Literal["auto", "manual", "task"]
        if is_task(cell):
            kind = "task"
        elif is_solution(cell) or cell.cell_type != "code":
            kind = "manual"
        else:
            kind = "auto"
        found.append(Exercise(gid, index, kind, points(cell), skill_of(cell)))
    return found


def skill_of(cell: NotebookNode) -> str | None:
    """Skillforge's addition: ``metadata.skillforge.skill``, the skill a cell's points evidence."""
    extra = cell.get("metadata", {}).get("skillforge", {})
    skill = extra.get("skill") if isinstance(extra, dict) else None
    return skill if isinstance(skill, str) and skill else None


def student_version(nb: NotebookNode) -> NotebookNode:
    """What nbgrader's ``generate_assignment`` releases to students.

    Solutions become stubs, hidden tests and mark schemes are removed, outputs are cleared, hints
    (Skillforge's ``metadata.skillforge.hints``) are left out, locked
    cells get Jupyter's ``editable``/``deletable`` flags and managed cells get nbgrader checksums.
    Raises InvalidNotebook if a region is malformed. The input is not modified.
    """
    out = copy.deepcopy(nb)
    for cell in out.cells:
        try:
            _lock(cell)
            _clear_solution(cell)
            _clear_output(cell)
            _strip_hints(cell)
            cell.source, _ = replace_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
            if is_task(cell):
                cell.source, _ = replace_regions(cell.source, BEGIN_MARK_SCHEME, END_MARK_SCHEME)
            _stamp_checksum(cell)
        except RegionError as exc:
            raise InvalidNotebook(f"cell {grade_id(cell) or '?'}: {exc}") from exc
    return out


def _lock(cell: NotebookNode) -> None:
    if is_locked(cell):
        cell.metadata["editable"] = False
        cell.metadata["deletable"] = False
    elif is_solution(cell) or is_grade(cell):
        cell.metadata["deletable"] = False


def _clear_solution(cell: NotebookNode) -> None:
    code = cell.cell_type == "code"
    stub = CODE_STUB if code else (TEXT_STUB,)
    if has_region(cell.source, BEGIN_SOLUTION):
        cell.source, _ = replace_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION, stub)
    elif is_solution(cell):
        cell.source = "\n".join(stub)


def _clear_output(cell: NotebookNode) -> None:
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    for key in ("collapsed", "scrolled", "execution"):
        cell.metadata.pop(key, None)


def _strip_hints(cell: NotebookNode) -> None:
    """Hints stay in the source: an engineer sees them one at a time, asking for each."""
    extra = cell.get("metadata", {}).get("skillforge")
    if isinstance(extra, dict) and HINTS_KEY in extra:
        del extra[HINTS_KEY]
        if not extra:
            del cell.metadata["skillforge"]


def _stamp_checksum(cell: NotebookNode) -> None:
    if is_managed(cell) and grade_id(cell):
        cell.metadata.nbgrader["checksum"] = compute_checksum(cell)
        cell.metadata.nbgrader["cell_type"] = cell.cell_type


def content_hash(nb: NotebookNode) -> str:
    """sha256 of what grading depends on: cell types, sources and nbgrader/skillforge metadata.

    Outputs, execution counts, cell ids and UI metadata do not change it, so re-running a source
    notebook keeps its version id.
    """
    cells = [
        {
            "type": c.cell_type,
            "source": c.source,
            "nbgrader": meta(c),
            "skillforge": c.get("metadata", {}).get("skillforge"),
        }
        for c in nb.cells
    ]
    language = nb.get("metadata", {}).get("kernelspec", {}).get("language")
    canonical = json.dumps(
        {"cells": cells, "language": language}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
