"""CSV import and export of staffing records, and role profiles."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from webapp.admin import import_views
from webapp.db import db
from webapp.services import imports
from webapp.services.staffing import csv_io, records
from webapp.services.staffing import profiles as role_profiles
from webapp.staffing import bp
from webapp.staffing.forms import ImportForm, ProfileForm, TargetForm, choices
from webapp.staffing.views import scope
from webapp.web.access import manager_required, me
from webapp.web.downloads import csv_text_download
from webapp.web.forms import EmptyForm, attempt
from webapp.web.limits import limited


@bp.route("/export/<kind>.csv")
@manager_required
def export(kind: str) -> Response:
    if kind not in csv_io.KINDS:
        abort(404)
    return csv_text_download(csv_io.export(db.session, kind, scope()), f"{kind}.csv")


@bp.route("/import", methods=["GET", "POST"])
@limited("IMPORT_RATE_LIMIT")
@manager_required
def import_csv() -> Response | tuple[str, int] | str:
    """Upload a staffing file: a worker checks it and shows the preview (or the problems) on
    the import's page; nothing is written before the manager's go."""
    form = ImportForm()
    if form.validate_on_submit():
        started = import_views.start_import(form.kind.data or "", form.file.data, area="staffing")
        if started is not None:
            return started
    page = render_template(
        "staffing/import.html",
        form=form,
        kinds=csv_io.KINDS,
        runs=imports.recent(db.session, kinds=csv_io.KINDS, viewer=me()),
        describe=import_views.describe,
    )
    return (page, 400) if form.is_submitted() else page


@bp.route("/imports/<int:run_id>")
@manager_required
def import_run(run_id: int) -> str:
    return import_views.show_run(run_id, area="staffing")


@bp.route("/imports/<int:run_id>/confirm", methods=["POST"])
@manager_required
def import_confirm(run_id: int) -> Response:
    return import_views.confirm_run(run_id, area="staffing")


@bp.route("/imports/<int:run_id>/discard", methods=["POST"])
@manager_required
def import_discard(run_id: int) -> Response:
    return import_views.discard_run(run_id, area="staffing")


@bp.route("/imports/<int:run_id>/problems.csv")
@manager_required
def import_problems(run_id: int) -> Response:
    return import_views.problems_csv(run_id)


@bp.route("/profiles", methods=["GET", "POST"])
@manager_required
def profiles() -> Response | str:
    form = ProfileForm()
    if form.validate_on_submit():
        profile = attempt(
            lambda: role_profiles.save_profile(
                db.session,
                actor=me(),
                name=form.name.data or "",
                description=form.description.data or "",
            )
        )
        if profile is not None:
            flash(f"Created {profile.name}. Now set its target levels.", "success")
            return redirect(url_for("staffing.profile", profile_id=profile.id))
    return render_template(
        "staffing/profiles.html",
        profiles=role_profiles.list_profiles(db.session, include_archived=True),
        form=form,
        button=EmptyForm(),
    )


@bp.route("/profiles/<int:profile_id>", methods=["GET", "POST"])
@manager_required
def profile(profile_id: int) -> Response | str:
    profile = role_profiles.get_profile(db.session, profile_id)
    form = ProfileForm(obj=profile, prefix="p")
    target = TargetForm(prefix="t")
    target.skill_id.choices = choices(records.skill_choices(db.session))
    if form.submit.data and form.validate_on_submit():
        role_profiles.save_profile(
            db.session,
            actor=me(),
            name=form.name.data or "",
            description=form.description.data or "",
            profile_id=profile.id,
        )
        db.session.commit()
        flash("Saved.", "success")
        return redirect(url_for("staffing.profile", profile_id=profile.id))
    if target.submit.data and target.validate_on_submit():
        level = int(target.level.data or 0)
        role_profiles.set_profile_target(
            db.session,
            actor=me(),
            profile_id=profile.id,
            skill_id=target.skill_id.data,
            level=level or None,
        )
        db.session.commit()
        flash("Target saved.", "success")
        return redirect(url_for("staffing.profile", profile_id=profile.id))
    return render_template(
        "staffing/profile.html", profile=profile, form=form, target=target, button=EmptyForm()
    )


@bp.route("/profiles/<int:profile_id>/archive", methods=["POST"])
@manager_required
def archive_profile(profile_id: int) -> Response:
    profile = role_profiles.get_profile(db.session, profile_id)
    role_profiles.archive_profile(db.session, profile.id, actor=me(), archived=not profile.archived)
    db.session.commit()
    flash(f"{profile.name} is {'archived' if profile.archived else 'restored'}.", "success")
    return redirect(url_for("staffing.profiles"))
