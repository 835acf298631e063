"""The layering holds: the domain, models and grader never import Flask."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "webapp"
FLASK_FREE = ["services", "grading", "models"]
FORBIDDEN = ("flask", "flask_login", "flask_wtf", "flask_limiter", "werkzeug")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", FLASK_FREE)
def test_layer_does_not_import_flask(folder: str) -> None:
    offenders = {}
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN}
        if folder == "models":
            bad -= {"flask_sqlalchemy"}
        if bad:
            offenders[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert not offenders, f"Flask imported below the blueprints: {offenders}"


def test_grader_does_not_import_the_app() -> None:
    offenders = {}
    for path in sorted((PACKAGE / "grading").rglob("*.py")):
        bad = {
            m
            for m in imported_modules(path)
            if m.startswith(("webapp.models", "webapp.extensions", "webapp.services"))
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert not offenders, offenders
