"""The grading engine stays free of the web app: no Flask, models or extensions imports."""

from __future__ import annotations

import ast
from pathlib import Path

import webapp.grading

FORBIDDEN = ("flask", "webapp.models", "webapp.extensions")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_grading_package_imports_nothing_of_the_web_app():
    package = Path(webapp.grading.__file__).parent
    offenders = {
        f"{path.name}: {name}"
        for path in package.glob("*.py")
        for name in imported_modules(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    }
    assert offenders == set()
