"""Admin pages: people, creating users, importing a roster, and the audit log."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime

from alembic.migration import MigrationContext
from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from webapp import jobs
from webapp.admin import bp, import_views
from webapp.admin.forms import RosterForm, UserForm
from webapp.db import db
from webapp.extensions import queue
from webapp.services import audit, imports
from webapp.services import backup as archive
from webapp.services.catalog import sync, worked
from webapp.services.learning import grading_status, live_sessions, workers
from webapp.services.people import accounts, directory
from webapp.services.words import count
from webapp.settings import settings_of
from webapp.web.access import me
from webapp.web.forms import EmptyForm, attempt
from webapp.web.limits import limited


@bp.route("/users")
def users() -> str:
    query = request.args.get("q", "").strip()[:100]
    return render_template(
        "admin/users.html",
        users=directory.list_users(db.session, query=query),
        total=directory.count_users(db.session),
        query=query,
    )


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> Response | str:
    form = UserForm()
    if form.validate_on_submit():
        user = attempt(
            lambda: accounts.create_user(
                db.session,
                email=form.email.data or "",
                display_name=form.display_name.data or "",
                password=form.password.data or "",
                role=form.role.data or "",
                actor=me(),
                team=form.team.data or None,
            )
        )
        if user is not None:
            flash(f"Created {user.email}. Give them their initial password.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/new_user.html", form=form)


@bp.route("/users/import", methods=["GET", "POST"])
@limited("IMPORT_RATE_LIMIT")
def import_roster() -> Response | tuple[str, int] | str:
    """Upload a roster: a worker checks it and shows the preview (or the problems) on the
    import's page; nothing is written before the admin's go."""
    form = RosterForm()
    if form.validate_on_submit():
        started = import_views.start_import("roster", form.roster.data, area="admin")
        if started is not None:
            return started
    page = render_template(
        "admin/import.html",
        form=form,
        runs=imports.recent(db.session, kinds=("roster",), viewer=me()),
        describe=import_views.describe,
    )
    return (page, 400) if form.is_submitted() else page


@bp.route("/audit")
def audit_log() -> str:
    return render_template("admin/audit.html", events=directory.recent_audit(db.session))


# --- the workshop catalog (issue 3) ---------------------------------------------------------------


@bp.route("/catalog")
def catalog_admin() -> str:
    syncs = sync.last_syncs(db.session)
    queued, running = worked.pending(db.session)
    return render_template(
        "admin/catalog.html",
        form=FlaskForm(),
        workshops=sync.catalog_status(db.session),
        syncs=syncs,
        last=syncs[0] if syncs else None,
        courses_path=settings_of(current_app).courses_path,
        worked=worked.overview(db.session),
        worked_pending=queued + running,
    )


@bp.route("/catalog/sync", methods=["POST"])
def catalog_sync() -> Response:
    """Sync courses/ now: all of it, or nothing when any file has a problem (listed on the page)."""
    if not FlaskForm().validate_on_submit():
        flash("The form expired; press Sync now again.", "warning")
        return redirect(url_for("admin.catalog_admin"))
    settings = settings_of(current_app)
    result = sync.sync_catalog(
        db.session, settings.courses_path, actor=me(), limits=settings.notebook_limits
    )
    db.session.commit()
    if result.counts.worked_queued and not jobs.enqueue(jobs.make_worked_examples):
        flash(jobs.QUEUE_AWAY, "warning")
    if result.ok:
        flash(result.summary + _worked_note(result.counts.worked_queued), "success")
    else:
        flash(f"{result.summary} Fix the files listed below, then sync again.", "danger")
    return redirect(url_for("admin.catalog_admin"))


@bp.route("/catalog/worked-examples", methods=["POST"])
def catalog_worked_examples() -> Response:
    """Make the outputs of every live notebook's worked examples again (after changing data)."""
    if not FlaskForm().validate_on_submit():
        flash("The form expired; press Make them again once more.", "warning")
        return redirect(url_for("admin.catalog_admin"))
    queued = worked.make_again(db.session, actor=me(), now=datetime.now(UTC))
    db.session.commit()
    if queued and not jobs.enqueue(jobs.make_worked_examples):
        flash(jobs.QUEUE_AWAY, "warning")
    flash(_worked_note(len(queued)).strip() or "Every notebook's outputs are being made.", "info")
    return redirect(url_for("admin.catalog_admin") + "#worked-examples")


def _worked_note(queued: int) -> str:
    if not queued:
        return ""
    return (
        f" A grading worker is making the worked examples' outputs of {count(queued, 'notebook')};"
        " the list below shows its progress."
    )


# --- grading ------------------------------------------------------------------------------------


@bp.route("/grading")
def grading() -> str:
    grader = settings_of(current_app).grader
    status = grading_status.grading_status(
        db.session, kernel_python=grader.kernel_python, allow_unsandboxed=grader.allow_unsandboxed
    )
    hosts, kernels = live_sessions.overview(db.session, settings_of(current_app).live)
    return render_template(
        "admin/grading.html",
        status=status,
        workers=workers.workers(db.session, now=datetime.now(UTC)),
        beat_s=f"{workers.BEAT_S:g}",
        stale_s=f"{workers.STALE_AFTER.total_seconds():g}",
        queue=type(queue.storage).__name__,
        hosts=hosts,
        kernels=kernels,
        idle_minutes=settings_of(current_app).live.idle_minutes,
    )


# --- backup -------------------------------------------------------------------------------------


@bp.route("/backup", methods=["GET", "POST"])
def backup() -> Response | str:
    """The whole organisation as one archive (``skillforge restore`` loads it); a POST, so each
    download is CSRF-checked and audited: the archive holds everyone's records."""
    form = EmptyForm()
    if form.validate_on_submit():
        revision = migration_revision()
        now = datetime.now(UTC)
        audit.record(
            db.session, actor=me(), action="backup.download", target_type="backup", target_id=None
        )
        db.session.commit()  # the audit row is in the backup it records
        spool = tempfile.TemporaryFile(prefix="skillforge-backup-")  # noqa: SIM115 - sent, then closed
        try:
            archive.backup(db.engine, spool, revision=revision)
        except Exception:
            spool.close()
            raise
        spool.seek(0)
        return send_file(
            spool,
            mimetype="application/zip",
            as_attachment=True,
            download_name=archive.file_name(now),
            max_age=0,
        )
    return render_template(
        "admin/backup.html",
        form=form,
        counts=archive.count_rows(db.engine),
        revision=migration_revision(),
        database=db.engine.dialect.name,
    )


def migration_revision() -> str:
    with db.engine.connect() as conn:
        return str(MigrationContext.configure(conn).get_current_revision())
