"""`flask grade SOURCE SUBMISSION [--json]`: the same sandboxed code path as the web app."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from flask.testing import FlaskCliRunner

from tests.conftest import nbgrader_notebook
from webapp.grading.notebook import student_version

pytestmark = pytest.mark.sandbox


def write_pair(tmp_path: Path, answer: str) -> tuple[Path, Path]:
    source = nbformat.from_dict(
        nbgrader_notebook(
            "def area(w, h):\n    return w * h",
            "assert area(2, 3) == 6",
            "assert area(0, 5) == 0",
            points=3,
        )
    )
    submission = student_version(source)
    submission.cells[0].source = answer
    paths = tmp_path / "source.ipynb", tmp_path / "submission.ipynb"
    nbformat.write(source, paths[0])
    nbformat.write(submission, paths[1])
    return paths


def test_grade_prints_the_documented_json(runner: FlaskCliRunner, tmp_path: Path) -> None:
    source, submission = write_pair(tmp_path, "def area(w, h):\n    return w * h")
    result = runner.invoke(args=["grade", str(source), str(submission), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "total": 3.0,
        "max": 3.0,
        "cells": {"check": {"points": 3.0, "max_points": 3.0, "status": "passed"}},
    }


def test_grade_reports_a_failed_cell_in_words(runner: FlaskCliRunner, tmp_path: Path) -> None:
    source, submission = write_pair(tmp_path, "def area(w, h):\n    return w + h")
    result = runner.invoke(args=["grade", str(source), str(submission)])
    assert result.exit_code == 0, result.output
    assert "check" in result.output and "failed" in result.output
    assert "Total: 0 / 3" in result.output


def test_grade_refuses_a_file_that_is_not_a_notebook(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    source, _ = write_pair(tmp_path, "")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    result = runner.invoke(args=["grade", str(source), str(bad)])
    assert result.exit_code != 0
    assert "not JSON" in result.output
