"""Front-end packages from npm, copied into webapp/static/build/ so the app serves them itself.

Run by .ci/setup after ``npm ci``: ``python -m webapp.assets``. Nothing here is committed; the
versions are pinned in package.json and package-lock.json.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
BUILD = Path(__file__).resolve().parent / "static" / "build"

# (path under node_modules, path under static/build); a directory is copied whole.
FILES: tuple[tuple[str, str], ...] = (
    ("chart.js/dist/chart.umd.min.js", "chart/chart.umd.min.js"),
    ("codemirror/lib/codemirror.js", "codemirror/codemirror.js"),
    ("codemirror/lib/codemirror.css", "codemirror/codemirror.css"),
    ("codemirror/mode/python/python.js", "codemirror/mode/python.js"),
    ("codemirror/mode/markdown/markdown.js", "codemirror/mode/markdown.js"),
    ("codemirror/addon/edit/matchbrackets.js", "codemirror/addon/matchbrackets.js"),
    ("codemirror/addon/edit/closebrackets.js", "codemirror/addon/closebrackets.js"),
    ("katex/dist/katex.min.js", "katex/katex.min.js"),
    ("katex/dist/katex.min.css", "katex/katex.min.css"),
    ("katex/dist/contrib/auto-render.min.js", "katex/auto-render.min.js"),
    ("katex/dist/fonts", "katex/fonts"),
    ("axe-core/axe.min.js", "axe/axe.min.js"),  # the accessibility checks of the browser tests
)


def build(node_modules: Path = NODE_MODULES, target: Path = BUILD) -> list[Path]:
    """Copy every listed file; raises FileNotFoundError naming what ``npm ci`` did not install."""
    missing = [src for src, _ in FILES if not (node_modules / src).exists()]
    if missing:
        raise FileNotFoundError(f"run `npm ci` first; missing: {', '.join(missing)}")
    written = []
    for src, dest in FILES:
        source, out = node_modules / src, target / dest
        out.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, out, dirs_exist_ok=True)
        else:
            shutil.copy2(source, out)
        written.append(out)
    return written


if __name__ == "__main__":
    try:
        paths = build()
    except FileNotFoundError as exc:
        sys.exit(str(exc))
    print(f"Copied {len(paths)} front-end assets into {BUILD.relative_to(ROOT)}")
