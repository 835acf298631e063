"""A live kernel's messages as the page shows them: sanitised HTML, exactly as rendered notebooks.

Each output becomes an HTML fragment passed through the notebook renderer's own sanitiser
(``safe_html.clean``): tracebacks and streams with their ANSI colours as classes, tables as
sanitised HTML, plots as inline images (SVG only inside ``<img>``, where it cannot run script),
LaTeX as text for KaTeX on the page. Output is capped per cell, so a print loop cannot fill the
engineer's browser or the web worker's memory.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any

from nbconvert.filters import ansi2html

from webapp.services.safe_html import clean as sanitise

MAX_CELL_OUTPUT = 2_000_000  # characters of HTML per run of a cell
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


def _pre(text: str, kind: str) -> str:
    return f'<pre class="live-{kind}">{ansi2html(text)}</pre>'


def _rich(data: dict[str, Any]) -> str:
    """The richest safe rendering of a display's MIME bundle."""
    if "text/html" in data:
        return f'<div class="live-html">{_joined(data["text/html"])}</div>'
    for mime in IMAGE_TYPES:
        if mime in data:
            return f'<img src="data:{mime};base64,{_b64(data[mime])}" alt="Plot output">'
    if "image/svg+xml" in data:
        svg = base64.b64encode(_joined(data["image/svg+xml"]).encode()).decode()
        return f'<img src="data:image/svg+xml;base64,{svg}" alt="Plot output">'
    if "text/latex" in data:
        return f'<div class="live-latex">{escape(_joined(data["text/latex"]))}</div>'
    if "text/markdown" in data:
        return _pre(_joined(data["text/markdown"]), "text")
    return _pre(_joined(data.get("text/plain", "")), "text")


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _b64(value: Any) -> str:
    return re.sub(r"\s", "", _joined(value))


def output_html(msg_type: str, content: dict[str, Any]) -> str | None:
    """One output message as sanitised HTML; None for messages that show nothing."""
    if msg_type == "stream":
        name = "stderr" if content.get("name") == "stderr" else "stdout"
        return sanitise(_pre(str(content.get("text", "")), name))
    if msg_type == "error":
        return sanitise(_pre("\n".join(content.get("traceback", [])), "error"))
    if msg_type in ("display_data", "execute_result", "update_display_data"):
        return sanitise(_rich(content.get("data", {})))
    return None


@dataclass
class CellRun:
    """What a run of one cell produced, for a caller that needs more than the stream."""

    status: str = "running"
    execution_count: int | None = None
    error_name: str = ""
    error_value: str = ""
    traceback: list[str] = field(default_factory=list)

    def ended(self, kind: str, content: dict[str, Any]) -> None:
        """The run's end: the kernel's reply, or the kernel restarting, or the time limit."""
        if kind == "kernel_restarted":
            self.status = "restarted"
        elif kind == "still_running":
            self.status = "still running"
        else:
            self.status = str(content.get("status", "error"))
            self.execution_count = content.get("execution_count", self.execution_count)
        if self.status == "error":
            self.error_name = str(content.get("ename", ""))
            self.error_value = str(content.get("evalue", ""))
            self.traceback = [strip_ansi(t) for t in content.get("traceback", [])]


ENDINGS = {"execute_reply", "kernel_restarted", "still_running"}


def events(
    messages: Iterable[dict[str, Any]], run: CellRun | None = None
) -> Iterator[dict[str, Any]]:
    """The page's events for a cell's messages: ``output`` (html), ``clear``, ``count``, ``done``.

    Output beyond MAX_CELL_OUTPUT is dropped with one note saying so.
    """
    run = run or CellRun()
    sent = 0
    truncated = False
    for msg in messages:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "execute_input":
            run.execution_count = content.get("execution_count")
            yield {"event": "count", "n": run.execution_count}
        elif kind == "clear_output":
            sent = 0
            yield {"event": "clear"}
        elif kind in ENDINGS:
            run.ended(kind, content)
        else:
            html = output_html(kind, content)
            if html is None:
                continue
            if sent + len(html) > MAX_CELL_OUTPUT:
                if not truncated:
                    truncated = True
                    yield {"event": "output", "html": _note_truncated()}
                continue
            sent += len(html)
            yield {"event": "output", "html": html}
    yield {"event": "done", "status": run.status, "n": run.execution_count}


def _note_truncated() -> str:
    return sanitise(
        '<p class="live-note">The rest of this output is not shown: it is over '
        f"{MAX_CELL_OUTPUT // 1_000_000} MB. Print less (a summary, or <code>df.head()</code>).</p>"
    )


def failing_line(traceback: list[str], source: str, execution_count: int | None) -> str:
    """The line of ``source`` (the test cell run as ``In [execution_count]``) where the traceback
    says it failed, or ""."""
    lines = source.splitlines()
    where = re.compile(rf"Cell In\[{execution_count}\], line (\d+)")
    for frame in traceback:
        match = where.search(frame)
        if match:
            number = int(match.group(1))
            if 1 <= number <= len(lines):
                return lines[number - 1].strip()
    return ""
