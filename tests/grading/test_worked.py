"""Which cells are worked examples, the notebook run for their outputs, and where outputs go."""

from __future__ import annotations

import json

import nbformat
from nbformat import NotebookNode

from tests.factories import nbgrader_notebook
from webapp.grading import worked
from webapp.grading.autograde import GradeResult
from webapp.grading.notebook import student_version
from webapp.grading.validation import validate_source
from webapp.services.catalog.check import CheckJob, judge


def notebook() -> NotebookNode:
    """setup (locked) · answer · test · example (unmanaged) · kept back (locked, opted out)."""
    nb = nbformat.from_dict(nbgrader_notebook("x = 41 + 1", "assert x == 42", "assert x > 0"))
    locked = {"grade": False, "solution": False, "locked": True, "task": False}
    setup = nbformat.v4.new_code_cell(
        "import math", metadata={"nbgrader": {**locked, "grade_id": "setup", "schema_version": 3}}
    )
    example = nbformat.v4.new_code_cell("print(x)")
    kept = nbformat.v4.new_code_cell(
        "print(x * 2)", metadata={"skillforge": {"show_outputs": False}}
    )
    nb.cells = [setup, *nb.cells, example, kept]
    return nb


def stream(text: str) -> dict[str, object]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_worked_examples_are_locked_or_plain_code_cells_that_are_neither_answers_nor_tests() -> (
    None
):
    nb = notebook()
    assert [worked.is_worked_example(c) for c in nb.cells] == [True, False, False, True, False]


def test_the_run_keeps_solutions_and_leaves_every_test_cell_out() -> None:
    nb = notebook()
    nb.cells[3].outputs = [stream("stale\n")]
    run = worked.example_run(nb)
    assert run.cells[1].source == nb.cells[1].source  # the solution, to compute what follows
    assert run.cells[2].cell_type == "raw" and run.cells[2].source == ""
    assert "assert x > 0" not in nbformat.writes(run)
    assert run.cells[3].outputs == []
    assert nb.cells[2].cell_type == "code"  # the source is untouched


def test_only_worked_examples_keep_outputs_and_their_errors_are_listed() -> None:
    nb = notebook()
    executed = worked.example_run(nb)
    executed.cells[1].outputs = [stream("the answer's own print\n")]
    executed.cells[3].outputs = [
        stream("42\n"),
        {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []},
    ]
    executed.cells[4].outputs = [stream("84\n")]
    found = worked.collect(executed, nb)
    assert set(found.cells) == {3}
    assert found.errors == ("cell 4: ValueError: bad",)
    assert found.size == len(json.dumps(found.to_json(), separators=(",", ":")))


def test_stored_outputs_go_into_worked_examples_of_the_student_version_only() -> None:
    student = dict(student_version(notebook()))
    placed = worked.with_outputs(
        student, {"1": [stream("solution\n")], "3": [stream("42\n")], "9": [stream("gone\n")]}
    )
    assert placed["cells"][3]["outputs"] == [stream("42\n")]
    assert placed["cells"][1]["outputs"] == []  # never into an answer cell
    assert student["cells"][3]["outputs"] == []  # a copy: the stored version is unchanged


def test_show_outputs_must_be_a_boolean() -> None:
    nb = notebook()
    nb.cells[4].metadata["skillforge"]["show_outputs"] = "no"
    problems = [p.message for p in validate_source(nb, filename="nb.ipynb")]
    assert "metadata.skillforge.show_outputs must be true or false" in problems


def test_the_check_fails_a_reference_solution_whose_worked_example_raises() -> None:
    nb = notebook()
    feedback = worked.example_run(nb)
    feedback.cells[3].outputs = [
        {"output_type": "error", "ename": "NameError", "evalue": "name 'y' is not defined"}
    ]
    result = GradeResult(
        cells={},
        total=0,
        max_total=0,
        tampered=(),
        feedback=feedback,
        sandbox="test",
        grader_version="test",
        duration_s=0.0,
    )
    job = CheckJob("nb (solution)", nb, nb, None, "full")
    assert judge(job, result) == (
        "worked example cell 4: NameError: name 'y' is not defined with the reference solution",
    )
