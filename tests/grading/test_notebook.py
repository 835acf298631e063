"""nbgrader-format logic: reading, validating, student versions, exercises and upload checks."""

from __future__ import annotations

import copy
import json

import pytest
from nbmaker import answer, autotest, code, dumps, manual, notebook, readonly, task, text

from webapp.grading import notebook as nbmod
from webapp.grading.notebook import (
    Exercise,
    InvalidNotebook,
    Problem,
    content_hash,
    exercises,
    read_notebook,
    student_version,
)
from webapp.grading.validation import submission_problems, validate_source
from webapp.grading.wellformed import too_deep

SOLUTION = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION"
TESTS = (
    "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(2) == 3\n### END HIDDEN TESTS\nprint('ok')"
)


def source_nb():
    return notebook(
        text("# Intro"),
        readonly("setup", "import math"),
        answer("f", SOLUTION),
        autotest("f_tests", TESTS, points=2, skill="python-data"),
        manual("explain", "It adds one.\n### BEGIN SOLUTION\nbecause\n### END SOLUTION", 3),
        task(
            "plot_task", "Plot it.\n=== BEGIN MARK SCHEME ===\nnice axes\n=== END MARK SCHEME ==="
        ),
    )


def messages(nb):
    return [p.message for p in validate_source(nb, filename="01-x.ipynb")]


def test_well_formed_source_has_no_problems():
    assert validate_source(source_nb(), filename="01-x.ipynb") == []


def test_problem_reads_with_file_cell_and_grade_id():
    problem = Problem("01-x.ipynb", 3, "q1", "solution region is never closed")
    expected = "01-x.ipynb, cell 4 (grade_id 'q1'): solution region is never closed"
    assert str(problem) == expected
    assert str(Problem("01-x.ipynb", None, None, "no graded cell")) == "01-x.ipynb: no graded cell"


def test_every_problem_is_reported_not_only_the_first():
    nb = notebook(
        answer("a", "### BEGIN SOLUTION\nx = 1"),  # never closed
        answer("a", "x = 2"),  # duplicate id
        autotest("bad id!", "assert True"),
        answer("", "y = 1"),  # missing id
    )
    found = validate_source(nb, filename="n.ipynb")
    assert [(p.cell, p.message.split(" ")[0]) for p in found] == [
        (0, "solution"),
        (1, "duplicate"),
        (2, "grade_id"),
        (3, "missing"),
    ]


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [
        (autotest("t", "assert True", points=None), "without points"),
        (autotest("t", "assert True", points=-1), "negative points"),
        (autotest("t", "assert True", points="two"), "not a number"),
        (task("t", "Do it", points=None), "without points"),
        (answer("a", "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"), "nested"),
        (code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "not a solution cell"),
        (
            autotest("t", "### BEGIN HIDDEN TESTS\nassert True"),
            "hidden-test region is never closed",
        ),
        (answer("a", "### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"), "outside an autograder"),
    ],
)
def test_each_authoring_mistake_is_named(cell, fragment):
    nb = notebook(cell, autotest("other", "assert True"))
    assert any(fragment in m for m in messages(nb)), messages(nb)


def test_old_schema_version_is_a_problem():
    cell = autotest("t", "assert True")
    cell.metadata.nbgrader["schema_version"] = 1
    assert any("schema_version is 1" in m for m in messages(notebook(cell)))


def test_notebook_without_graded_cell_is_a_problem():
    found = validate_source(notebook(answer("a", "x = 1")), filename="n.ipynb")
    assert [(p.cell, p.message) for p in found] == [
        (None, "no graded cell (no test, manual or task cell)")
    ]


def test_student_version_stubs_solutions_keeping_indentation():
    cells = student_version(source_nb()).cells
    assert cells[2].source == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert cells[4].source == "It adds one.\nYOUR ANSWER HERE"


def test_student_version_replaces_solution_cell_without_region_whole():
    nb = notebook(answer("a", "x = 42"), manual("m", "secret prose"), autotest("t", "assert x"))
    cells = student_version(nb).cells
    assert cells[0].source == "# YOUR CODE HERE\nraise NotImplementedError()"
    assert cells[1].source == "YOUR ANSWER HERE"


def test_student_version_removes_hidden_tests_and_mark_scheme():
    cells = student_version(source_nb()).cells
    assert cells[3].source == "assert f(1) == 2\nprint('ok')"
    assert cells[5].source == "Plot it."


def test_student_version_clears_outputs_and_locks_cells():
    nb = source_nb()
    nb.cells[1].outputs = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    nb.cells[1].execution_count = 3
    cells = student_version(nb).cells
    assert cells[1].outputs == [] and cells[1].execution_count is None
    assert cells[1].metadata["editable"] is False and cells[1].metadata["deletable"] is False
    assert cells[3].metadata["editable"] is False
    assert cells[2].metadata["deletable"] is False and "editable" not in cells[2].metadata


def test_student_version_checksums_follow_nbgrader_algorithm():
    cells = student_version(source_nb()).cells
    for cell in cells[1:]:
        assert cell.metadata.nbgrader["checksum"] == nbmod.compute_checksum(cell)
        assert cell.metadata.nbgrader["cell_type"] == cell.cell_type
    # the digest nbgrader 0.9.6 computes for this exact cell (recorded once with nbgrader itself)
    probe = autotest("q1", "assert True", points=2)
    assert nbmod.compute_checksum(probe) == REFERENCE_CHECKSUM


REFERENCE_CHECKSUM = "e2808963090cd5feae332f7cc02f712b"


def test_student_version_leaves_source_untouched():
    nb = source_nb()
    before = copy.deepcopy(nb)
    student_version(nb)
    assert nb == before


def test_student_version_refuses_broken_regions():
    with pytest.raises(InvalidNotebook, match="never closed"):
        student_version(notebook(answer("a", "### BEGIN SOLUTION\nx = 1")))


def test_exercises_lists_scored_cells_in_order():
    assert exercises(source_nb()) == [
        Exercise("f_tests", 3, "auto", 2.0, "python-data"),
        Exercise("explain", 4, "manual", 3.0, None),
        Exercise("plot_task", 5, "task", 1.0, None),
    ]


def test_content_hash_ignores_outputs_but_not_sources():
    nb = source_nb()
    executed = copy.deepcopy(nb)
    executed.cells[1].outputs = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    edited = copy.deepcopy(nb)
    edited.cells[3].source += "\nassert f(3) == 4"
    assert content_hash(nb) == content_hash(executed)
    assert content_hash(nb) != content_hash(edited)
    assert len(content_hash(nb)) == 64


def test_read_notebook_round_trips():
    nb = read_notebook(dumps(source_nb()).encode())
    assert [c.cell_type for c in nb.cells] == [
        "markdown",
        "code",
        "code",
        "code",
        "markdown",
        "markdown",
    ]


@pytest.mark.parametrize(
    ("data", "prefix"),
    [
        (b"{not json", "not JSON: "),
        (b"\xff\xfe", "not JSON: "),
        ('{"cells": []}', "not a valid notebook: "),
        (
            json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{}]}),
            "not a valid",
        ),
    ],
)
def test_read_notebook_says_what_is_wrong(data, prefix):
    with pytest.raises(InvalidNotebook) as info:
        read_notebook(data)
    assert str(info.value).startswith(prefix)


def test_student_version_is_a_gradable_submission():
    assert submission_problems(source_nb(), student_version(source_nb())) == []


def test_submission_of_another_notebook_is_refused():
    other = notebook(answer("g", "x = 1"), autotest("g_tests", "assert x"))
    [message] = submission_problems(source_nb(), other)
    assert "another exercise" in message and "'g_tests'" in message


def test_submission_with_foreign_cells_names_them():
    sub = student_version(source_nb())
    sub.cells.append(autotest("intruder", "assert True"))
    [message] = submission_problems(source_nb(), sub)
    assert "'intruder'" in message


def test_submission_without_answer_cells_is_refused():
    sub = student_version(source_nb())
    sub.cells = [c for c in sub.cells if not c.metadata.get("nbgrader", {}).get("solution")]
    [message] = submission_problems(source_nb(), sub)
    assert "None of the answer cells" in message


def test_submission_in_another_language_is_refused():
    sub = student_version(source_nb())
    sub.metadata["kernelspec"]["language"] = "R"
    assert submission_problems(source_nb(), sub) == [
        "This notebook is written in R; this exercise is graded in python."
    ]


# --- malformed uploads: nbgrader metadata of the wrong types, absurd nesting ----------------------

FIX = (
    " Skillforge reads nbgrader metadata only as nbgrader writes it: download a fresh copy of the "
    "notebook here, copy your answers into it and upload that."
)
DEEP = (
    "not a valid notebook: {} is nested more than 64 levels deep, which no notebook needs. Clear "
    "its outputs and metadata (or copy your work into a fresh notebook) and try again."
)


def damaged(index: int, key: str | None, value: object) -> str:
    """The student version as JSON text, with one cell's nbgrader metadata (or one field) set."""
    data = json.loads(dumps(student_version(source_nb())))
    metadata = data["cells"][index]["metadata"]
    if key is None:
        metadata["nbgrader"] = value
    else:
        metadata["nbgrader"][key] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("index", "key", "value", "expected"),
    [
        (2, None, "solution", 'Cell 3: nbgrader metadata is the text "solution", not an object.'),
        (3, None, ["grade"], "Cell 4: nbgrader metadata is a list, not an object."),
        (1, None, 3, "Cell 2: nbgrader metadata is the number 3, not an object."),
        (4, None, None, "Cell 5: nbgrader metadata is null, not an object."),
        (2, "grade_id", 7, "Cell 3: nbgrader grade_id is the number 7, not text."),
        (3, "grade_id", ["f_tests"], "Cell 4: nbgrader grade_id is a list, not text."),
        (
            3,
            "points",
            "2",
            "Cell 4 (grade_id 'f_tests'): nbgrader points are the text \"2\", not a number.",
        ),
        (
            3,
            "points",
            True,
            "Cell 4 (grade_id 'f_tests'): nbgrader points are true, not a number.",
        ),
        (
            2,
            "solution",
            "yes",
            "Cell 3 (grade_id 'f'): nbgrader flag 'solution' is the text \"yes\", not true or "
            "false.",
        ),
        (
            5,
            "locked",
            1,
            "Cell 6 (grade_id 'plot_task'): nbgrader flag 'locked' is the number 1, not true or "
            "false.",
        ),
        (
            3,
            "grade",
            None,
            "Cell 4 (grade_id 'f_tests'): nbgrader flag 'grade' is null, not true or false.",
        ),
    ],
)
def test_submission_with_malformed_nbgrader_metadata_names_the_cell(index, key, value, expected):
    submitted = read_notebook(damaged(index, key, value))  # valid nbformat: nbformat never looks
    assert submission_problems(source_nb(), submitted) == [expected + FIX]


def test_every_malformed_cell_is_named_in_one_message_in_cell_order():
    data = json.loads(damaged(3, "points", "2"))
    data["cells"][1]["metadata"]["nbgrader"] = "locked"
    [message] = submission_problems(source_nb(), read_notebook(json.dumps(data)))
    assert message == (
        'Cell 2: nbgrader metadata is the text "locked", not an object. '
        "Cell 4 (grade_id 'f_tests'): nbgrader points are the text \"2\", not a number." + FIX
    )


def test_source_with_malformed_nbgrader_metadata_is_a_problem():
    cell = autotest("t", "assert True")
    cell.metadata.nbgrader["grade"] = "yes"
    found = validate_source(notebook(cell, autotest("other", "assert True")), filename="n.ipynb")
    assert [str(p) for p in found] == [
        "n.ipynb, cell 1 (grade_id 't'): nbgrader flag 'grade' is the text \"yes\", not true or "
        "false"
    ]


def nested(levels: int, *, where: str) -> str:
    """A notebook whose second cell's metadata (or the notebook's) holds ``levels`` nested lists."""
    data = json.loads(dumps(source_nb()))
    target = data["cells"][1]["metadata"] if where == "cell" else data["metadata"]
    target["deep"] = "PLACEHOLDER"
    return json.dumps(data).replace('"PLACEHOLDER"', "[" * levels + "]" * levels)


@pytest.mark.parametrize("levels", [61, 100_000])  # 4 levels to the metadata, then 61: 65 > 64
def test_notebook_nested_too_deep_is_refused_naming_the_cell(levels):
    with pytest.raises(InvalidNotebook) as info:
        read_notebook(nested(levels, where="cell"))
    assert str(info.value) == DEEP.format("cell 2")


def test_notebook_metadata_nested_too_deep_is_refused():
    with pytest.raises(InvalidNotebook) as info:
        read_notebook(nested(5000, where="notebook"))  # json.loads raised RecursionError here
    assert str(info.value) == DEEP.format("the file")


def test_nesting_up_to_the_limit_and_brackets_in_strings_are_fine():
    assert read_notebook(nested(60, where="cell")).cells[1].metadata["deep"] is not None
    nb = source_nb()
    nb.cells[0].source = '[{"\\\\' * 500 + " \" ' }]" * 500  # brackets, quotes, backslashes
    assert read_notebook(dumps(nb)).cells[0].source == nb.cells[0].source
    assert too_deep("[" * 64 + "]" * 64) is None
    assert too_deep("[" * 65 + "]" * 65) == "the file"
