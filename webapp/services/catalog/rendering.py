"""Notebooks to safe HTML: nbconvert's ``basic`` template, sanitised with nh3, cached by hash.

The HTML is a fragment meant to sit inside the site layout. It carries no inline styles nor
scripts (the CSP allows neither): code is highlighted with Pygments classes whose stylesheet is
:func:`highlight_css`, math stays as TeX for KaTeX's auto-render, and images are kept only as
``data:image/...`` URIs. The same renderer serves course notebooks and submitted ones, which are
untrusted: every tag and attribute passes an allow-list.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import multiprocessing.context
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import mistune
import nbformat
from nbconvert import HTMLExporter
from nbformat import NotebookNode
from pygments.formatters import HtmlFormatter

from webapp.services.cache import LRU
from webapp.services.safe_html import clean

RENDERER_VERSION = "1"  # bump when the output changes, so cached pages are rebuilt
PYGMENTS_STYLE = "default"
MEMORY_ITEMS = 64
RENDER_NICENESS = 10  # added to a render process's niceness (see _render_to)
# A render's time limit counts its own CPU time, so a busy machine never makes a notebook "too
# large"; past this many times the limit in wall-clock time, and at least WALL_CLOCK_MIN_S (starved
# of CPU), it is given up for this request only and tried again on the next.
USED_REFRESH_S = 86400  # a cached render read from disk has its time refreshed once a day
WALL_CLOCK_FACTOR = 15
WALL_CLOCK_MIN_S = 30.0

ALIGN_RE = re.compile(r'<(td|th)([^>]*?) style="text-align:\s*(left|right|center);?"')


def sanitise(html: str) -> str:
    """nbconvert's HTML, its column alignment kept as classes (no inline styles), sanitised."""
    return clean(ALIGN_RE.sub(r'<\1\2 class="nb-align-\3"', html))


_lock = threading.Lock()  # only for renders in this process (tests, benchmarks); see _render_to
_memory: LRU[str, str] = LRU(MEMORY_ITEMS)


@cache
def _exporter() -> HTMLExporter:
    """One exporter per process: loading its Jinja templates is most of a cold render's cost."""
    return HTMLExporter(template_name="basic", anchor_link_text="¶")


def render_notebook_html(nb: NotebookNode | Mapping[str, Any]) -> str:
    """The notebook as a sanitised HTML fragment (no scripts, no inline styles, no event handlers).

    Raises nbformat's ValidationError-derived errors only for data that is not a notebook.
    """
    node = _with_python_lexer(nb if isinstance(nb, NotebookNode) else nbformat.from_dict(dict(nb)))
    with _lock:  # nbconvert exporters are not documented as thread-safe
        body, _resources = _exporter().from_notebook_node(node)
    return sanitise(body)


def _with_python_lexer(nb: NotebookNode) -> NotebookNode:
    """A shallow copy highlighted with Pygments' Python lexer.

    Notebooks name the ``ipython3`` lexer, which needs IPython (not installed in the app); nbconvert
    would warn and fall back to Python anyway.
    """
    info = dict(nb.get("metadata", {}).get("language_info", {}))
    lexer = str(info.get("pygments_lexer", ""))
    if lexer and not lexer.startswith("ipython"):
        return nb  # nbconvert's default, with no lexer named, is ipython3 too
    info["pygments_lexer"] = "python3"
    info.setdefault("name", "python")
    metadata = NotebookNode({**nb.get("metadata", {}), "language_info": NotebookNode(info)})
    return NotebookNode({**nb, "metadata": metadata})


_markdown = mistune.create_markdown(escape=True, plugins=["strikethrough", "table"])


def markdown_html(text: str) -> str:
    """A Markdown snippet (a hint) as sanitised HTML, by the same allow-list as notebooks; raw
    HTML in it is shown as text."""
    return sanitise(str(_markdown(text)))


@cache
def highlight_css() -> str:
    """The Pygments stylesheet for the ``.highlight`` blocks nbconvert emits."""
    return str(HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(".highlight"))


# --- the cache ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderLimits:
    """How big a notebook may be rendered (RENDER_MAX_BYTES, RENDER_TIME_LIMIT_S)."""

    max_bytes: int = 5_000_000  # the notebook as JSON
    time_limit_s: float = 20.0  # CPU seconds of one render, in its own process


DEFAULT_RENDER = RenderLimits()


class RenderFailed(RuntimeError):
    """The render process failed on its own (not over a limit): a bug, or data no notebook has."""


def cached_notebook_html(
    cache_dir: Path,
    content_hash: str,
    load: Callable[[], Mapping[str, Any]],
    limits: RenderLimits = DEFAULT_RENDER,
) -> str | None:
    """The rendered notebook for ``content_hash``, rendering (``load()``) only on a cache miss;
    None when it is too large to display (over ``limits.max_bytes`` as JSON, or its render used
    more than ``limits.time_limit_s`` of CPU time), which is remembered beside the cache so it is
    not tried again; also None, not remembered, when a starved render ran past WALL_CLOCK_FACTOR
    times the limit (WALL_CLOCK_MIN_S at least) in wall-clock time.

    Kept on disk under ``cache_dir`` (it survives restarts) and in a small in-process LRU. A miss
    renders under a file lock of its own hash, shared by every process using the folder, so racing
    requests render it once and a big render never holds up pages of other notebooks; the render
    runs in a child process that is stopped at the time limit. Raises RenderFailed.
    """
    key = f"{content_hash}-r{RENDERER_VERSION}"
    html = _memory.get(key)
    if html is not None:
        return html
    html_path, too_large = cache_dir / f"{key}.html", cache_dir / f"{key}.too-large"
    html = _read(html_path)
    if html is not None:
        _mark_used(html_path)
    if html is None and not too_large.exists():
        with _file_lock(cache_dir / f".{key}.lock"):
            html = _read(html_path)  # rendered by whoever held the lock before us
            if html is None and not too_large.exists():
                html = _render_bounded(load(), html_path, too_large, limits)
    if html is not None:
        _memory.put(key, html)
    return html


def json_hash(value: Mapping[str, Any]) -> str:
    """A cache key for a notebook held as JSON (a graded submission's feedback): its content's
    sha256, so two databases' submission 7 never share a rendering."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_cached(cache_dir: Path, content_hash: str) -> bool:
    return (cache_dir / f"{content_hash}-r{RENDERER_VERSION}.html").exists()


def forget_memory() -> None:
    """Empty the in-process cache (the disk cache stays); tests use it to simulate a restart."""
    _memory.clear()


def _mark_used(path: Path) -> None:
    """Refresh a cached render's time when it is read from disk (at most once a day), so the
    housekeeping job keeps renders people still open and prunes the others."""
    try:
        if time.time() - path.stat().st_mtime > USED_REFRESH_S:
            os.utime(path)
    except OSError:  # pruned or replaced meanwhile: nothing to keep
        pass


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``: it holds between processes and, as each call opens the
    file anew, between threads of one process; the kernel drops it if the holder dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _render_bounded(
    nb: Mapping[str, Any], html_path: Path, too_large: Path, limits: RenderLimits
) -> str | None:
    """Render ``nb`` into ``html_path`` in a child process; None (and ``too_large`` written) when
    it is over the size limit or the child runs past the time limit."""
    size = len(json.dumps(nb, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace"))
    if size > limits.max_bytes:
        _write_atomically(too_large, f"{size} bytes as JSON, over {limits.max_bytes}\n")
        return None
    child = _processes().Process(
        target=_render_to, args=(dict(nb), str(html_path), limits.time_limit_s), daemon=True
    )
    child.start()
    child.join(max(limits.time_limit_s * WALL_CLOCK_FACTOR, WALL_CLOCK_MIN_S))
    starved = child.is_alive()
    if starved:
        child.kill()
        child.join()
    if starved or child.exitcode == -signal.SIGPROF:
        for partial in html_path.parent.glob(f".{html_path.name}-*.tmp"):  # the child's, if any
            partial.unlink(missing_ok=True)
        if not starved:
            _write_atomically(too_large, f"rendering ran past {limits.time_limit_s} s of CPU\n")
        return None
    html = _read(html_path)
    if child.exitcode != 0 or html is None:
        raise RenderFailed(f"the notebook's render process ended with code {child.exitcode}")
    return html


@cache
def _processes() -> multiprocessing.context.ForkServerContext:
    """Render processes fork from a server that has imported this module (nbconvert, nh3), so a
    render starts in milliseconds; never forked from the web process itself, whose threads may
    hold locks a forked child would inherit locked."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _render_to(nb: dict[str, Any], path: str, cpu_limit_s: float) -> None:
    """The render process's work: the notebook's HTML, written atomically to ``path``. At a lower
    CPU priority, so that on a busy machine the pages of the web processes go first; the kernel
    ends it with SIGPROF once it has used ``cpu_limit_s`` of CPU time (ITIMER_PROF)."""
    os.nice(RENDER_NICENESS)
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_PROF, cpu_limit_s)
    _write_atomically(Path(path), render_notebook_html(nb))


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
