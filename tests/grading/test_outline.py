"""A notebook's exercises: titles from headings, the tests that score each, authored hints."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from webapp.grading import notebook as nbg
from webapp.grading.outline import hint_problem, outline
from webapp.grading.validation import validate_source


def _meta(gid: str, *, solution: bool = False, grade: bool = False, points: float = 0) -> dict:
    data = {
        "schema_version": 3,
        "grade_id": gid,
        "solution": solution,
        "grade": grade,
        "locked": not solution,
        "task": False,
    }
    if grade:
        data["points"] = points
    return {"nbgrader": data}


def _notebook(hints: object = None) -> nbformat.NotebookNode:
    answer = _meta("impl_fit", solution=True)
    if hints is not None:
        answer["skillforge"] = {"hints": hints}
    return new_notebook(
        cells=[
            new_markdown_cell("# Fitting curves\n\nIntro."),
            new_code_cell("import math", metadata=_meta("setup")),
            new_markdown_cell("## 1. A ridge curve ##\n\nFit it."),
            new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", metadata=answer),
            new_code_cell("assert x == 1", metadata=_meta("test_fit", grade=True, points=2)),
            new_code_cell("assert x > 0", metadata=_meta("test_fit_more", grade=True, points=1)),
            new_markdown_cell("Some text without a heading."),
            new_code_cell("y = 2", metadata=_meta("impl_more", solution=True)),
            new_code_cell("assert y", metadata=_meta("test_more", grade=True, points=1)),
        ]
    )


def test_an_exercise_is_its_answer_cell_with_the_tests_that_follow_titled_by_the_heading() -> None:
    nb = _notebook()
    first, second = outline(nb)
    assert (first.grade_id, first.title, first.graded) == (
        "impl_fit",
        "1. A ridge curve",
        ("test_fit", "test_fit_more"),
    )
    assert first.cell_id == nb.cells[3].id
    # no heading of its own: the nearest one above, never the grade id
    assert (second.grade_id, second.title, second.graded) == (
        "impl_more",
        "1. A ridge curve",
        ("test_more",),
    )


def test_an_exercise_without_any_heading_above_is_numbered() -> None:
    nb = _notebook()
    del nb.cells[0], nb.cells[1]  # the two headings (the second is at index 2, then 1)
    assert [e.title for e in outline(nb)] == ["Exercise 1", "Exercise 2"]


def test_hints_are_read_from_the_answer_cell_and_left_out_of_the_student_version() -> None:
    nb = _notebook(["Think of `x`.", "It is one."])
    assert outline(nb)[0].hints == ("Think of `x`.", "It is one.")
    student = nbg.student_version(nb)
    assert "skillforge" not in student.cells[3].metadata
    assert outline(student)[0].hints == ()
    # everything else stays: the stub, the visible tests
    assert "raise NotImplementedError()" in student.cells[3].source
    assert student.cells[4].source == "assert x == 1"


def test_valid_hints_pass_the_source_checks() -> None:
    assert validate_source(_notebook(["One hint"]), filename="nb.ipynb") == []


def test_malformed_hints_are_reported_with_their_cell() -> None:
    problems = [str(p) for p in validate_source(_notebook("just text"), filename="nb.ipynb")]
    assert problems == [
        "nb.ipynb, cell 4 (grade_id 'impl_fit'): metadata.skillforge.hints must be a list of "
        "Markdown strings, none of them empty"
    ]
    assert "must be a list" in (hint_problem(_notebook([1, 2]).cells[3]) or "")
    assert "1 to 5 hints" in (hint_problem(_notebook([]).cells[3]) or "")


def test_hints_on_a_test_cell_are_refused() -> None:
    nb = _notebook()
    nb.cells[4].metadata["skillforge"] = {"hints": ["the answer is 1"]}
    assert hint_problem(nb.cells[4]) == (
        "metadata.skillforge.hints belongs on an answer cell (an nbgrader solution cell)"
    )
