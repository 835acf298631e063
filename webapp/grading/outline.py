"""A notebook's exercises as engineers see them: answer cells, their titles, tests and hints.

An *exercise* is an answer cell (an nbgrader solution cell) together with the graded cells that
follow it up to the next answer cell: its tests, which give its points. A graded cell with no
answer cell before it (a task, or a test of a locked cell) is an exercise of its own. Its title
is the nearest Markdown heading above it, never its grade id. Hints are Skillforge's addition to
nbgrader's format: ``metadata.skillforge.hints``, a list of Markdown strings on an answer cell
(nbgrader ignores metadata keys it does not know). Pure functions over notebooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from nbformat import NotebookNode

from webapp.grading.notebook import HINTS_KEY, grade_id, is_grade, is_solution, is_task

MAX_HINTS = 5
MAX_HINT_CHARS = 2000


@dataclass(frozen=True)
class ExerciseOutline:
    """One exercise: its answer cell (or its only graded cell) and the graded cells scoring it."""

    grade_id: str  # the answer cell's grade id; an engineer's progress is kept under it
    cell_id: str  # the cell's nbformat id: the notebook page's anchor is ``#cell-id=<cell_id>``
    cell_index: int
    title: str
    graded: tuple[str, ...]  # grade ids of the cells whose points score the exercise
    hints: tuple[str, ...] = field(default=(), repr=False)


def outline(nb: NotebookNode) -> list[ExerciseOutline]:
    """The notebook's exercises in notebook order (works on a source or a student version)."""
    found: list[ExerciseOutline] = []
    heading = ""
    answer_open = False  # graded cells after an answer cell score that answer
    for index, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        answer, graded = gid is not None and is_solution(cell), gid is not None and is_grade(cell)
        task = gid is not None and is_task(cell)
        if cell.cell_type == "markdown" and not (answer or graded):
            heading = _last_heading(cell) or heading
        if gid is None:
            continue
        if answer:
            scored_by = (gid,) if graded else ()
            found.append(_entry(cell, index, gid, heading, scored_by, hints_of(cell)))
            answer_open = True
        elif graded and answer_open:
            found[-1] = replace(found[-1], graded=(*found[-1].graded, gid))
        elif graded or task:
            found.append(_entry(cell, index, gid, heading, (gid,), ()))
            answer_open = False
    return [e if e.title else replace(e, title=f"Exercise {n}") for n, e in enumerate(found, 1)]


def _entry(
    cell: NotebookNode,
    index: int,
    gid: str,
    title: str,
    graded: tuple[str, ...],
    hints: tuple[str, ...],
) -> ExerciseOutline:
    return ExerciseOutline(gid, str(cell.get("id", "")), index, title, graded, hints)


def _last_heading(cell: NotebookNode) -> str:
    """The last ATX heading (``#`` to ``######``) of a Markdown cell, without its marks (nor
    code backticks: titles are shown as plain text)."""
    title = ""
    for line in str(cell.source).split("\n"):
        stripped = line.strip()
        if stripped.startswith("#") and stripped.lstrip("#").startswith(" "):
            title = stripped.lstrip("#").strip().rstrip("#").strip().replace("`", "")
    return title[:200]


# --- hints -----------------------------------------------------------------------------------


def hints_of(cell: NotebookNode) -> tuple[str, ...]:
    """The cell's hints (``metadata.skillforge.hints``); () when it has none or they are
    malformed (``hint_problems`` reports those when the source is checked)."""
    raw = _raw_hints(cell)
    if hint_problem(cell) is not None or not isinstance(raw, list):
        return ()
    return tuple(raw)


def _raw_hints(cell: NotebookNode) -> object:
    extra = cell.get("metadata", {}).get("skillforge", {})
    return extra.get(HINTS_KEY) if isinstance(extra, Mapping) else None


def hint_problem(cell: NotebookNode) -> str | None:
    """What is wrong with a cell's hints, in words; None when nothing is (or it has none)."""
    raw = _raw_hints(cell)
    if raw is None:
        return None
    where = f"metadata.skillforge.{HINTS_KEY}"
    if not is_solution(cell):
        return f"{where} belongs on an answer cell (an nbgrader solution cell)"
    if not isinstance(raw, list) or not all(isinstance(h, str) and h.strip() for h in raw):
        return f"{where} must be a list of Markdown strings, none of them empty"
    if not 1 <= len(raw) <= MAX_HINTS:
        return f"{where} must hold 1 to {MAX_HINTS} hints (it holds {len(raw)})"
    if any(len(h) > MAX_HINT_CHARS for h in raw):
        return f"{where}: a hint is longer than {MAX_HINT_CHARS} characters"
    return None
