"""Validating nbgrader notebooks: a source before it is published, a submission against it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from nbformat import NotebookNode

from webapp.grading.notebook import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    GRADE_ID_RE,
    SCHEMA_VERSION,
    Problem,
    RegionError,
    grade_id,
    has_region,
    is_grade,
    is_managed,
    is_solution,
    is_task,
    meta,
    replace_regions,
)
from webapp.grading.outline import hint_problem
from webapp.grading.wellformed import is_number, metadata_problem, metadata_problems
from webapp.grading.worked import show_outputs_problem


def validate_source(nb: NotebookNode, *, filename: str) -> list[Problem]:
    """Every authoring problem of a source (instructor) notebook, in cell order; [] if fine."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        for message in _cell_problems(cell, seen):
            problems.append(Problem(filename, index, gid, message))
        if gid is not None and is_managed(cell):
            seen.setdefault(gid, index)
    if not any(is_grade(c) or is_task(c) for c in nb.cells):
        message = "no graded cell (no test, manual or task cell)"
        problems.append(Problem(filename, None, None, message))
    return problems


def _cell_problems(cell: NotebookNode, seen: dict[str, int]) -> Iterator[str]:
    shape = metadata_problem(cell)
    if shape is not None:  # the finer checks below would misread it
        yield shape
    elif "nbgrader" in cell.get("metadata", {}):
        yield from _metadata_problems(cell, seen)
    for problem in (hint_problem(cell), show_outputs_problem(cell)):
        if problem is not None:
            yield problem
    yield from _region_problems(cell)


def _metadata_problems(cell: NotebookNode, seen: dict[str, int]) -> Iterator[str]:
    data = meta(cell)
    if data.get("schema_version") != SCHEMA_VERSION:
        yield (
            f"schema_version is {data.get('schema_version')!r}, expected {SCHEMA_VERSION} "
            "(run `nbgrader update` on the notebook)"
        )
    if not is_managed(cell):
        return
    gid = data.get("grade_id")
    if not gid:
        yield "missing grade_id"
    elif not isinstance(gid, str) or not GRADE_ID_RE.match(gid):
        yield f"grade_id {gid!r} may only contain letters, digits, '_' and '-'"
    elif gid in seen:
        yield f"duplicate grade_id (also used by cell {seen[gid] + 1})"
    yield from _points_problems(cell, data)
    if is_task(cell) and (is_grade(cell) or is_solution(cell)):
        yield "a task cell cannot also be a grade or solution cell"
    if is_task(cell) and cell.cell_type != "markdown":
        yield "a task cell must be a markdown cell"
    if is_grade(cell) and not is_solution(cell) and cell.cell_type == "markdown":
        yield "a markdown grade cell must also be a solution cell (manually graded answer)"


def _points_problems(cell: NotebookNode, data: dict[str, Any]) -> Iterator[str]:
    if not (is_grade(cell) or is_task(cell)):
        return
    value = data.get("points")
    if value is None:
        yield "graded cell without points"
    elif not is_number(value):
        yield f"points {value!r} is not a number"
    elif value < 0:
        yield f"negative points ({value})"


def _region_problems(cell: NotebookNode) -> Iterator[str]:
    source = cell.source
    if has_region(source, BEGIN_SOLUTION):
        if not is_solution(cell):
            yield "solution region in a cell that is not a solution cell"
        try:
            replace_regions(source, BEGIN_SOLUTION, END_SOLUTION)
        except RegionError:
            yield _solution_region_message(source)
    if has_region(source, BEGIN_HIDDEN):
        if not is_grade(cell) or is_solution(cell):
            yield "hidden-test region outside an autograder test cell"
        try:
            replace_regions(source, BEGIN_HIDDEN, END_HIDDEN)
        except RegionError as exc:
            yield "hidden-test region is never closed" if "never" in str(exc) else str(exc)


def _solution_region_message(source: str) -> str:
    depth = 0
    for line in source.split("\n"):
        if BEGIN_SOLUTION in line:
            if depth:
                return "nested BEGIN SOLUTION (a region opens inside another)"
            depth = 1
        elif END_SOLUTION in line:
            depth = 0
    return "solution region is never closed"


# --- uploads ------------------------------------------------------------------------------------


def submission_problems(source_nb: NotebookNode, submitted_nb: NotebookNode) -> list[str]:
    """Reasons an uploaded notebook cannot be graded against ``source_nb``; [] if it can.

    A student may delete or edit cells (graded cells are restored from the source), so only uploads
    that cannot be what the student meant to hand in are refused, and those whose nbgrader
    metadata has the wrong types (alone: the other checks would misread such cells). Linear in
    the number of cells (sets and one count of each grade_id, never a count per cell).
    """
    malformed = malformed_metadata(submitted_nb)
    if malformed:
        return malformed
    expected = {g for c in source_nb.cells if is_managed(c) and (g := grade_id(c))}
    answers = {g for c in source_nb.cells if is_solution(c) and (g := grade_id(c))}
    present = [g for c in submitted_nb.cells if is_managed(c) and (g := grade_id(c))]
    problems: list[str] = []
    foreign = sorted({g for g in present if g not in expected})
    if present and not set(present) & expected:
        return [
            "This notebook belongs to another exercise: none of its graded cells "
            f"({_names(foreign)}) are in this one. Upload the notebook you downloaded here."
        ]
    if foreign:
        problems.append(
            f"Cells {_names(foreign)} come from another notebook; remove them or start again "
            "from the notebook you downloaded here."
        )
    if answers and not answers & set(present):
        problems.append(
            "None of the answer cells are in this notebook (their nbgrader metadata is gone). "
            "Copy your answers into a fresh copy of the notebook and upload that."
        )
    doubled = sorted(g for g, times in Counter(present).items() if times > 1)
    if doubled:
        problems.append(f"Cells {_names(doubled)} appear twice; delete the copies, then upload.")
    problems += _language_problem(source_nb, submitted_nb)
    return problems


def malformed_metadata(nb: NotebookNode) -> list[str]:
    """[] when every cell's nbgrader metadata has the types nbgrader writes; else one message
    naming each cell that does not (1-based, with its grade_id when known) and what to do."""
    found = metadata_problems(nb.cells)
    if not found:
        return []
    return [
        " ".join(found) + " Skillforge reads nbgrader metadata only as nbgrader writes it: "
        "download a fresh copy of the notebook here, copy your answers into it and upload that."
    ]


NAMES_SHOWN = 10


def _names(ids: list[str] | set[str]) -> str:
    """The grade ids in order, at most NAMES_SHOWN of them (a message stays readable)."""
    ordered = sorted(ids)
    shown = ", ".join(f"'{g}'" for g in ordered[:NAMES_SHOWN])
    more = len(ordered) - NAMES_SHOWN
    return f"{shown} and {more:,} more" if more > 0 else shown


def _language_problem(source_nb: NotebookNode, submitted_nb: NotebookNode) -> list[str]:
    def language(nb: NotebookNode) -> str | None:
        info = nb.get("metadata", {})
        return info.get("kernelspec", {}).get("language") or info.get("language_info", {}).get(
            "name"
        )

    want, got = language(source_nb), language(submitted_nb)
    if want and got and want.lower() != got.lower():
        return [f"This notebook is written in {got}; this exercise is graded in {want}."]
    return []
