"""Output caps: a kernel that prints without end cannot grow the grader or the stored feedback."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from nbformat import NotebookNode
from nbmaker import answer, autotest, code, notebook

from webapp.grading.autograde import Grader, GraderConfig
from webapp.grading.execute import (
    MAX_CELL_OUTPUT,
    MAX_NOTEBOOK_OUTPUT,
    CappedClient,
    OutputBudget,
)

MB = 1024 * 1024
CELL_MARKER = "[output truncated: the cell printed more than 100 kB]\n"
PNG = (  # one white pixel
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
NORMAL = (
    "from IPython.display import display\n"
    "print('hello')\n"
    f"display({{'text/plain': '<a dot>', 'image/png': {PNG!r}}}, raw=True)\n"
    "6 * 7"
)
FLOOD = "for _ in range(3000):\n    print('x' * 99_999, flush=True)  # 300 MB in all"


@pytest.fixture(scope="module")
def grader() -> Iterator[Grader]:
    """A grader whose cells may run long enough to print 300 MB (and production's warm-up)."""
    config = GraderConfig(
        cell_timeout=60,
        notebook_timeout=120,
        pool_size=1,
        run_root=f"/dev/shm/sfg-caps-{os.getpid()}",
    )
    with Grader(config) as grader:
        yield grader
    shutil.rmtree(config.run_root or "", ignore_errors=True)


def status_mb(key: str) -> float:
    """A memory figure of this process (the grader) from /proc/self/status, in MB."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) * 1024 / MB
    raise LookupError(key)


def shown(cell: NotebookNode) -> list[tuple[Any, ...]]:
    return [
        (o.output_type, o.get("name"), o.get("text"), dict(o.get("data", {}))) for o in cell.outputs
    ]


def texts(cell: NotebookNode) -> int:
    return sum(len(o.get("text", "")) for o in cell.outputs)


@pytest.mark.sandbox
def test_300_mb_of_output_is_cut_as_it_arrives_and_the_grader_stays_small(grader):
    nb = notebook(
        answer("normal", NORMAL),
        answer("flood", FLOOD),
        code("print('after the flood')"),
        autotest("caps_tests", "assert True", points=1),
    )
    grader.grade(nb, nb)  # the first grading imports and allocates what later ones reuse
    before = status_mb("VmRSS")
    result = grader.grade(nb, nb)
    grown = status_mb("VmRSS") - before

    assert result.total == result.max_total == 1
    normal, flood, after = result.feedback.cells[:3]
    assert shown(normal) == [
        ("stream", "stdout", "hello\n", {}),
        ("display_data", None, None, {"text/plain": "<a dot>", "image/png": PNG}),
        ("execute_result", None, None, {"text/plain": "42"}),
    ]
    assert flood.outputs[-1].text == CELL_MARKER
    assert flood.outputs[0].text.startswith("x" * 1000)
    assert texts(flood) <= MAX_CELL_OUTPUT + len(CELL_MARKER)
    assert shown(after) == [("stream", "stdout", "after the flood\n", {})]
    assert len(nbformat.writes(result.feedback)) < MAX_NOTEBOOK_OUTPUT
    # Uncapped, the grader kept the 300 MB: its RSS grew by 240-290 MB and stayed there.
    assert grown < 100, f"grader RSS grew by {grown:.0f} MB"


@pytest.mark.sandbox
def test_printing_past_the_cap_keeps_results_errors_and_the_score(grader):
    noisy = "def noisy():\n    print('y' * 300_000)\n    return 42\nnoisy()"
    nb = notebook(
        answer("noisy", noisy),
        autotest("partial", "assert noisy() == 42\n0.5", points=1),
        answer("broken", "noisy()\nraise ValueError('broken answer')"),
    )
    result = grader.grade(nb, nb)
    assert (result.cells["partial"].status, result.cells["partial"].points) == ("partial", 0.5)
    answered, broken = result.feedback.cells[0], result.feedback.cells[2]
    for cell in (answered, broken):
        assert CELL_MARKER in [o.get("text") for o in cell.outputs]
        assert texts(cell) <= MAX_CELL_OUTPUT + len(CELL_MARKER)
    results = [o.data["text/plain"] for o in answered.outputs if o.output_type == "execute_result"]
    errors = [(o.ename, o.evalue) for o in broken.outputs if o.output_type == "error"]
    assert (results, errors) == (["42"], [("ValueError", "broken answer")])


# --- the budget on made-up messages, without a kernel --------------------------------------------


def message(msg_type: str, content: dict[str, Any], buffers: tuple[bytes, ...] = ()) -> dict:
    header = {"msg_type": msg_type, "msg_id": "m"}
    return {
        "msg_type": msg_type,
        "header": header,
        "parent_header": {"msg_id": "p"},
        "metadata": {},
        "content": content,
        "buffers": list(buffers),
    }


def stdout(text: str) -> dict:
    return message("stream", {"name": "stdout", "text": text})


def display(text: str) -> dict:
    return message("display_data", {"data": {"text/plain": text}, "metadata": {}})


def client_for(cells: int, budget: OutputBudget) -> tuple[CappedClient, NotebookNode]:
    nb = notebook(*(code(f"cell_{i}") for i in range(cells)))
    client = CappedClient(nb, budget)
    client.reset_execution_trackers()
    client.clear_before_next_output = False  # nbclient sets it as each cell starts
    for cell in nb.cells:
        cell.outputs = []
    return client, nb


def test_a_cell_keeps_at_most_its_number_of_outputs():
    client, nb = client_for(1, OutputBudget(100, 3, 1000))
    for i in range(5):
        client.process_message(stdout(f"{i}\n"), nb.cells[0], 0)
        client.process_message(display(f"<{i}>"), nb.cells[0], 0)
    assert [o.get("text") or o.data["text/plain"] for o in nb.cells[0].outputs] == [
        "0\n",
        "<0>",
        "1\n",
        "[output truncated: the cell produced more than 3 outputs]\n",
    ]


def test_text_printed_line_by_line_is_one_output_and_counts_once():
    client, nb = client_for(1, OutputBudget(100, 3, 1000))
    for i in range(5):
        client.process_message(stdout(f"{i}\n"), nb.cells[0], 0)
    assert [o.text for o in nb.cells[0].outputs] == ["0\n1\n2\n3\n4\n"]


def test_a_full_notebook_keeps_only_markers_in_later_cells():
    client, nb = client_for(5, OutputBudget(100, 10, 300))
    for index, cell in enumerate(nb.cells):
        client.process_message(stdout("z" * 80), cell, index)  # 94 characters with the keys
    marker = "[output truncated: the notebook printed more than 0.3 kB]\n"
    assert [[o.text for o in c.outputs] for c in nb.cells] == [
        ["z" * 80],
        ["z" * 80],
        ["z" * 80],
        ["z" * 18, marker],
        [marker],
    ]


def test_images_and_binary_buffers_count_towards_the_cap():
    client, nb = client_for(1, OutputBudget(100, 10, 1000))
    cell = nb.cells[0]
    picture = message("display_data", {"data": {"image/png": "A" * 200}, "metadata": {}})
    widget = {"comm_id": "w", "data": {"state": {"value": 1}, "buffer_paths": [["b"]]}}
    client.process_message(picture, cell, 0)
    client.process_message(message("comm_msg", widget, (b"\0" * 1000,)), cell, 0)
    client.process_message(stdout("late\n"), cell, 0)
    assert [o.get("text") for o in cell.outputs] == [CELL_MARKER.replace("100", "0.1")]
    assert client.widget_state == {}


def test_a_long_error_past_the_cap_is_kept_short():
    client, nb = client_for(1, OutputBudget(100, 10, 1000))
    cell = nb.cells[0]
    client.process_message(stdout("x" * 150), cell, 0)
    error = {"ename": "ValueError", "evalue": "v" * 10**6, "traceback": ["t" * 10**6]}
    client.process_message(message("error", error), cell, 0)
    client.process_message(message("error", error), cell, 0)
    kinds = [o.output_type for o in cell.outputs]
    assert kinds == ["stream", "stream", "error"]
    assert len(cell.outputs[2].evalue) == 2000 and len(cell.outputs[2].traceback[0]) < 2300


@pytest.mark.sandbox
def test_text_flushed_in_pieces_is_one_output_as_jupyter_shows_it(grader):
    pieces = (
        "import sys, time\n"
        "for word in ('one ', 'line'):\n"
        "    print(word, end='', flush=True)\n"
        "    time.sleep(0.1)  # each piece reaches the grader as a message of its own\n"
        "print(flush=True)\n"
        "print('a warning', file=sys.stderr, flush=True)\n"
        "print('more')"
    )
    nb = notebook(code(pieces), autotest("t", "assert True", points=1))
    cell = grader.grade(nb, nb).feedback.cells[0]
    assert shown(cell) == [
        ("stream", "stdout", "one line\n", {}),
        ("stream", "stderr", "a warning\n", {}),
        ("stream", "stdout", "more\n", {}),
    ]
