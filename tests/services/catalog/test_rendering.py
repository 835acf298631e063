"""Notebook rendering: highlighted, math kept for KaTeX, no scripts or inline styles, cached."""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from webapp.services.catalog import rendering

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
    "AAAABJRU5ErkJggg=="
)


def hostile_notebook() -> NotebookNode:
    """What a submitted notebook can carry: scripts, event handlers, styles, odd URLs."""
    html = (
        "<b onclick='steal()'>bold</b><script>alert('out')</script>"
        "<img src=x onerror=alert(1)><a href='javascript:alert(2)'>link</a>"
        "<div style='position:fixed'>styled</div><iframe src='https://evil.example'></iframe>"
    )
    outputs = [
        new_output("display_data", data={"text/html": html, "text/plain": "x"}),
        new_output("display_data", data={"application/javascript": "alert('js')"}),
        new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        new_output("stream", name="stdout", text="printed <text>\n"),
    ]
    cells = [
        new_markdown_cell(
            "# Title\n\nInline $x^2 < y$ and <span onmouseover='x()' style='color:red'>md</span>"
        ),
        new_code_cell("import numpy as np\nx = np.arange(3)", outputs=outputs),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    return nb


@pytest.fixture(scope="module")
def hostile_html() -> str:
    return rendering.render_notebook_html(hostile_notebook())


def test_scripts_event_handlers_and_javascript_urls_are_removed(hostile_html: str) -> None:
    lowered = hostile_html.lower()
    for forbidden in ("<script", "onerror", "onclick", "onmouseover", "javascript:", "<iframe"):
        assert forbidden not in lowered
    assert "alert('out')" not in hostile_html and "alert('js')" not in hostile_html
    assert "bold" in hostile_html and "styled" in hostile_html  # the harmless content stays


def test_no_inline_styles_survive(hostile_html: str) -> None:
    assert "style=" not in hostile_html.lower()


OVERLAY = (
    '<div class="modal d-block position-fixed top-0 start-0 w-100 h-100 bg-white" '
    'id="answer-cells"><h1 class="display-1">Your session expired</h1>'
    '<a class="btn btn-primary" href="https://evil.example/login">Sign in again</a>'
    '<a href="#answer-cells">here</a></div>'
)


def test_untrusted_html_keeps_no_app_class_and_its_ids_move_into_their_own_namespace() -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell(OVERLAY),
            new_code_cell("x", outputs=[new_output("display_data", data={"text/html": OVERLAY})]),
        ]
    )
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    html = rendering.render_notebook_html(nb)
    for app_class in ("modal", "d-block", "position-fixed", "bg-white", "btn", "display-1"):
        assert not re.search(rf'class="[^"]*\b{app_class}\b', html), app_class
    assert 'id="answer-cells"' not in html and 'href="#answer-cells"' not in html
    assert html.count('id="user-content-answer-cells"') == 2
    assert html.count('href="#user-content-answer-cells"') == 2
    assert 'class="cell border-box-sizing code_cell rendered"' in html  # nbconvert's stay
    assert "Sign in again" in html  # the text is shown, as text in the notebook's box


def test_png_outputs_stay_as_data_uris_and_other_images_lose_their_source(
    hostile_html: str,
) -> None:
    assert f'src="data:image/png;base64,{PNG}"' in hostile_html
    assert 'src="x"' not in hostile_html


def test_code_is_highlighted_with_classes_and_math_is_left_for_katex(hostile_html: str) -> None:
    assert '<div class="highlight' in hostile_html
    assert '<span class="kn">import</span>' in hostile_html
    assert "$x^2 &lt; y$" in hostile_html
    assert "printed &lt;text&gt;" in hostile_html


def test_markdown_table_alignment_becomes_classes() -> None:
    nb = new_notebook(cells=[new_markdown_cell("| a | b |\n|:-:|--:|\n| 1 | 2 |")])
    html = rendering.render_notebook_html(nb)
    assert '<th class="nb-align-center">a</th>' in html and "style=" not in html


def test_highlight_css_styles_the_highlight_class() -> None:
    css = rendering.highlight_css()
    assert ".highlight .k " in css and "{" in css


def test_cache_renders_once_per_hash_and_survives_a_restart(tmp_path: Path) -> None:
    loads: list[int] = []

    def load() -> NotebookNode:
        loads.append(1)
        return new_notebook(cells=[new_markdown_cell("# Cached")])

    first = rendering.cached_notebook_html(tmp_path, "abc123", load)
    again = rendering.cached_notebook_html(tmp_path, "abc123", load)
    rendering.forget_memory()  # as after a restart: only the disk cache remains
    after_restart = rendering.cached_notebook_html(tmp_path, "abc123", load)
    assert first == again == after_restart and "Cached" in first
    assert loads == [1]
    assert rendering.is_cached(tmp_path, "abc123")
    rendering.cached_notebook_html(tmp_path, "def456", load)
    assert loads == [1, 1]  # another hash (a new version after a sync) renders on demand


# --- bounds: a lock per content hash shared by processes, a size limit and a time limit ---------


def many_cells(count: int = 300) -> NotebookNode:
    """A notebook that takes a noticeable while to render (hundreds of highlighted cells)."""
    source = "value_{0} = [n ** 2 for n in range({0})]\nprint(value_{0})"
    cells = [new_code_cell(source.format(i)) for i in range(count)]
    return new_notebook(cells=cells)


def _render_counting(cache_dir: str, counter: str, barrier: Any) -> None:
    """One of several processes asking for the same uncached notebook at the same moment; every
    render it does is a line in ``counter`` (``load`` runs once per render)."""

    def load() -> NotebookNode:
        with open(counter, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
        return many_cells()

    barrier.wait()
    assert rendering.cached_notebook_html(Path(cache_dir), "racing", load) is not None


def test_processes_racing_for_one_uncached_notebook_render_it_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    counter, processes = tmp_path / "renders.txt", 2
    barrier = context.Barrier(processes)
    racers = [
        context.Process(target=_render_counting, args=(str(tmp_path), str(counter), barrier))
        for _ in range(processes)
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert [racer.exitcode for racer in racers] == [0] * processes
    assert len(counter.read_text().split()) == 1
    assert [p.name for p in tmp_path.glob("racing-*.html")] == ["racing-r1.html"]


def test_threads_racing_for_one_uncached_notebook_render_it_once(tmp_path: Path) -> None:
    loads: list[int] = []
    barrier = threading.Barrier(4)

    def load() -> NotebookNode:
        loads.append(1)
        return many_cells()

    def ask() -> str | None:
        barrier.wait()
        return rendering.cached_notebook_html(tmp_path, "threads", load)

    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda _: ask(), range(4)))
    assert loads == [1]
    assert len(set(pages)) == 1 and pages[0] is not None


def test_a_render_in_progress_holds_up_no_other_notebook(tmp_path: Path) -> None:
    """While one hash's lock is held (its render running), a cached notebook is read and another
    uncached one renders: the lock is per hash, never one per process."""
    cached = rendering.cached_notebook_html(tmp_path, "cached", lambda: many_cells(2))
    rendering.forget_memory()
    with rendering._file_lock(tmp_path / ".busy-r1.lock"):
        assert rendering.cached_notebook_html(tmp_path, "cached", many_cells) == cached
        other = rendering.cached_notebook_html(tmp_path, "other", lambda: many_cells(2))
    assert other is not None and "value_1" in other


def test_a_notebook_over_the_size_limit_is_too_large_and_never_rendered(tmp_path: Path) -> None:
    loads: list[int] = []

    def load() -> NotebookNode:
        loads.append(1)
        return many_cells(50)

    limits = rendering.RenderLimits(max_bytes=1000)
    assert rendering.cached_notebook_html(tmp_path, "big", load, limits) is None
    rendering.forget_memory()
    assert rendering.cached_notebook_html(tmp_path, "big", load, limits) is None
    assert loads == [1]  # remembered beside the cache: not loaded or measured again
    assert not rendering.is_cached(tmp_path, "big")
    assert (tmp_path / "big-r1.too-large").exists()


def test_a_render_past_the_time_limit_is_stopped_and_shown_as_too_large(tmp_path: Path) -> None:
    limits = rendering.RenderLimits(time_limit_s=0.01)  # no render of 300 cells is that quick
    assert rendering.cached_notebook_html(tmp_path, "slow", many_cells, limits) is None
    assert "ran past" in (tmp_path / "slow-r1.too-large").read_text()
    assert not rendering.is_cached(tmp_path, "slow")
