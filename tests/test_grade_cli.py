"""`flask grade SOURCE SUBMISSION [--json] [--feedback OUT]`: the web app's sandboxed code path."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from flask.testing import FlaskCliRunner

from tests.factories import FIXTURE_COURSES, fixture_catalog, make_user, nbgrader_notebook
from webapp import jobs
from webapp.db import db as _db
from webapp.grading.notebook import read_notebook, student_version
from webapp.models import Submission
from webapp.services.learning import submissions

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


TINY = FIXTURE_COURSES / "valid" / "tiny" / "01-basics.ipynb"  # has hidden tests in two cells


def tiny_submission(tmp_path: Path) -> Path:
    """The tiny workshop's student version, with one right answer and one that only passes the
    visible test (so a hidden test fails, with a traceback that would show it)."""
    nb = student_version(read_notebook(TINY.read_bytes()))
    answers = {
        "impl_mean": "def mean(xs):\n    return sum(xs) / len(xs)",
        "impl_var": "def sample_variance(xs):\n    return 2",
    }
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.source = answers.get(gid, cell.source)
    path = tmp_path / "work.ipynb"
    nbformat.write(nb, path)
    return path


def stored_feedback(submission_path: Path) -> dict[str, object]:
    """What the web app stores (and the attempt page shows) for the same upload."""
    version = submissions.current_version(_db.session, fixture_catalog()["tiny"])
    nb = submissions.parse_upload(submission_path.read_bytes(), version)
    user = make_user(email="cli-feedback@example.com")
    sub = submissions.create_submission(
        _db.session, user=user, version=version, nb=nb, mode="final"
    )
    _db.session.commit()
    assert jobs.run_grading(sub.id) is True
    stored = _db.session.get(Submission, sub.id)
    assert stored is not None and stored.feedback is not None
    return stored.feedback


def test_grade_writes_the_feedback_notebook_the_engineer_is_shown(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    submission, out = tiny_submission(tmp_path), tmp_path / "feedback.ipynb"
    args = ["grade", str(TINY), str(submission), "--json", "--feedback", str(out)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"] == 2.0  # --json prints the same as without
    written = read_notebook(out.read_bytes())  # a valid notebook
    text = out.read_text()
    assert "HIDDEN TESTS" not in text and "mean([5])" not in text and "5 / 3" not in text
    errors = [o for c in written.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert [e.ename for e in errors] == ["AssertionError"]  # the hidden test that failed
    assert written == nbformat.from_dict(stored_feedback(submission))


def test_grade_says_when_it_cannot_write_the_feedback(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    source, submission = write_pair(tmp_path, "def area(w, h):\n    return w * h")
    out = tmp_path / "missing-folder" / "feedback.ipynb"
    result = runner.invoke(args=["grade", str(source), str(submission), "--feedback", str(out)])
    assert result.exit_code != 0
    assert "Cannot write the feedback notebook" in result.output
