"""``grade``: grade one notebook against its source, as the server would."""

from __future__ import annotations

import json
from pathlib import Path

import click
import nbformat
from flask import current_app
from flask.cli import with_appcontext

from webapp.cli.common import fail
from webapp.grading.autograde import GradeResult, grade_files
from webapp.grading.notebook import InvalidNotebook
from webapp.services.learning.grading import to_outcome
from webapp.settings import settings_of


@click.command("grade")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("submission", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--feedback",
    "feedback_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the graded notebook the engineer is shown to this .ipynb file.",
)
@with_appcontext
def grade_command(
    source: Path, submission: Path, as_json: bool, feedback_path: Path | None
) -> None:
    """Grade SUBMISSION against the nbgrader SOURCE notebook, in the sandbox."""
    try:
        result = grade_files(source, submission, settings_of(current_app).grader)
    except InvalidNotebook as exc:
        fail(str(exc))
    if feedback_path is not None:
        _write_feedback(result, feedback_path)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    for gid, cell in result.cells.items():
        points = "needs review" if cell.points is None else f"{cell.points:g}/{cell.max_points:g}"
        click.echo(f"{gid:<32} {cell.status:<8} {points}  {cell.message or ''}".rstrip())
    click.echo(f"Total: {result.total:g} / {result.max_total:g}  (sandbox: {result.sandbox})")


def _write_feedback(result: GradeResult, path: Path) -> None:
    """Write the graded notebook exactly as the web app stores and shows it (hidden tests out)."""
    feedback = nbformat.from_dict(to_outcome(result).feedback)
    try:
        nbformat.write(feedback, path)
    except OSError as exc:
        fail(f"Cannot write the feedback notebook {path}: {exc.strerror or exc}")
