"""The pages of a CSV import as a stored job (services/imports.py), shared by the admin's roster
import and the managers' staffing import: upload, live status while a worker checks the file, the
problems by row and column or the preview, the go, and the result (with new people's invitation
links). ``area`` is the blueprint whose endpoints the pages link to ("admin" or "staffing")."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from webapp import jobs
from webapp.admin import bp
from webapp.db import db
from webapp.models import ImportRun, ImportStatus, User
from webapp.services import audit, imports
from webapp.services.people import lifecycle
from webapp.services.tabular import to_csv
from webapp.services.words import count
from webapp.web.access import me
from webapp.web.downloads import csv_text_download
from webapp.web.forms import EmptyForm, attempt
from webapp.web.uploads import upload_bytes

PREVIEW_LINKS = 20  # invitation links listed on the page; the CSV has them all


def start_import(kind: str, file: FileStorage, *, area: str) -> Response | None:
    """Store the upload and queue its check; the run's page, or None (the reason flashed)."""
    run = attempt(
        lambda: imports.start(
            db.session,
            kind=kind,
            data=upload_bytes(file),
            filename=file.filename or "upload.csv",
            actor=me(),
        )
    )
    if run is None:
        return None
    if not jobs.enqueue(jobs.check_import, run.id):
        flash(jobs.QUEUE_AWAY, "warning")
    return redirect(url_for(f"{area}.import_run", run_id=run.id))


def show_run(run_id: int, *, area: str) -> str:
    run = imports.get_for_viewer(db.session, run_id, viewer=me())
    links = _invitations(run, PREVIEW_LINKS) if run.status == ImportStatus.DONE.value else []
    uploader = db.session.get(User, run.actor_id) if run.actor_id else None
    return render_template(
        "imports/run.html",
        run=run,
        area=area,
        form=EmptyForm(),
        links=links,
        invited=len(run.created_ids) if run.status == ImportStatus.DONE.value else 0,
        uploader=uploader,
        pending=run.status in (ImportStatus.CHECKING.value, ImportStatus.IMPORTING.value),
    )


def confirm_run(run_id: int, *, area: str) -> Response:
    if EmptyForm().validate_on_submit():
        run = attempt(lambda: imports.confirm(db.session, run_id, viewer=me()))
        if run is not None and not jobs.enqueue(jobs.apply_import, run.id):
            flash(jobs.QUEUE_AWAY, "warning")
    return redirect(url_for(f"{area}.import_run", run_id=run_id))


def discard_run(run_id: int, *, area: str) -> Response:
    if EmptyForm().validate_on_submit():
        run = attempt(lambda: imports.discard(db.session, run_id, viewer=me()))
        if run is not None:
            flash("The import is discarded: nothing of it was written.", "info")
    return redirect(url_for(f"{area}.import_run", run_id=run_id))


def problems_csv(run_id: int) -> Response:
    run = imports.get_for_viewer(db.session, run_id, viewer=me())
    text = to_csv(("line", "column", "problem"), [tuple(p) for p in run.problems])
    return csv_text_download(text, f"import-{run.id}-problems.csv")


def invitations_csv(run_id: int) -> Response:
    run = imports.get_for_viewer(db.session, run_id, viewer=me())
    rows = _invitations(run)
    audit.record(
        db.session,
        actor=me(),
        action="roster.invitations",
        target_type="import",
        target_id=run.id,
        links=len(rows),
    )
    db.session.commit()
    return csv_text_download(
        to_csv(("email", "name", "invitation"), rows), f"invitations-{run.id}.csv"
    )


def _invitations(run: ImportRun, limit: int | None = None) -> list[tuple[str, str, str]]:
    """(email, name, link) of each new account of the import whose invitation is unused."""
    ids = list(run.created_ids or [])[:limit]
    secret = str(current_app.config["SECRET_KEY"])
    return [
        (email, name, url_for("auth.invitation", token=token, _external=True))
        for email, name, token in lifecycle.invitations(db.session, ids, secret=secret)
    ]


def describe(run: ImportRun) -> str:
    """A one-line account of an import, for lists of them."""
    if run.status == ImportStatus.REFUSED.value:
        return f"refused: {count(run.problem_count, 'problem')}"
    if run.status == ImportStatus.DONE.value:
        return f"imported {count(run.rows, 'row')}"
    return run.status


# --- the admin's routes (roster files) ---------------------------------------------------------


@bp.route("/imports/<int:run_id>")
def import_run(run_id: int) -> str:
    return show_run(run_id, area="admin")


@bp.route("/imports/<int:run_id>/confirm", methods=["POST"])
def import_confirm(run_id: int) -> Response:
    return confirm_run(run_id, area="admin")


@bp.route("/imports/<int:run_id>/discard", methods=["POST"])
def import_discard(run_id: int) -> Response:
    return discard_run(run_id, area="admin")


@bp.route("/imports/<int:run_id>/problems.csv")
def import_problems(run_id: int) -> Response:
    return problems_csv(run_id)


@bp.route("/imports/<int:run_id>/invitations.csv")
def import_invitations(run_id: int) -> Response:
    return invitations_csv(run_id)
