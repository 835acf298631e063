"""Notebooks to safe HTML: nbconvert's ``basic`` template, sanitised with nh3, cached by hash.

The HTML is a fragment meant to sit inside the site layout. It carries no inline styles nor
scripts (the CSP allows neither): code is highlighted with Pygments classes whose stylesheet is
:func:`highlight_css`, math stays as TeX for KaTeX's auto-render, and images are kept only as
``data:image/...`` URIs. The same renderer serves course notebooks and submitted ones, which are
untrusted: every tag and attribute passes an allow-list.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
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

ALIGN_RE = re.compile(r'<(td|th)([^>]*?) style="text-align:\s*(left|right|center);?"')


def sanitise(html: str) -> str:
    """nbconvert's HTML, its column alignment kept as classes (no inline styles), sanitised."""
    return clean(ALIGN_RE.sub(r'<\1\2 class="nb-align-\3"', html))


_lock = threading.Lock()
_key_locks: dict[str, threading.Lock] = {}
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


def cached_notebook_html(
    cache_dir: Path, content_hash: str, load: Callable[[], Mapping[str, Any]]
) -> str:
    """The rendered notebook for ``content_hash``, rendering (``load()``) only on a cache miss.

    Kept on disk under ``cache_dir`` (it survives restarts) and in a small in-process LRU, and
    rendered at most once per process for a given hash even when requests race.
    """
    key = f"{content_hash}-r{RENDERER_VERSION}"
    html = _memory.get(key)
    if html is not None:
        return html
    with _key_lock(key):
        path = cache_dir / f"{key}.html"
        try:
            html = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            html = render_notebook_html(load())
            _write_atomically(path, html)
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


def _key_lock(key: str) -> threading.Lock:
    with _lock:
        return _key_locks.setdefault(key, threading.Lock())


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".render-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
