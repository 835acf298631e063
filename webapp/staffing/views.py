"""Projects and their gaps: list, create, edit, archive; requirements and assignments."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from webapp.db import db
from webapp.models import Team
from webapp.services import tabular
from webapp.services.access import policy
from webapp.services.staffing import gaps, records, violations
from webapp.staffing import bp
from webapp.staffing.forms import AssignmentForm, ProjectForm, RequirementForm, choices
from webapp.web.access import manager_required, me
from webapp.web.downloads import csv_text_download
from webapp.web.forms import EmptyForm, attempt


def scope() -> set[int] | None:
    return policy.team_scope(db.session, me())


def _team_choices() -> list[tuple[int, str]]:
    teams = db.session.query(Team.id, Team.name).order_by(Team.name).all()
    allowed = scope()
    return [(tid, name) for tid, name in teams if allowed is None or tid in allowed]


@bp.route("/")
@manager_required
def projects() -> str:
    rows = gaps.gaps(db.session, viewer=me(), team_ids=scope())
    return render_template(
        "staffing/projects.html",
        projects=records.list_projects(db.session, scope()),
        summary={s.project_id: s for s in gaps.by_project(rows)},
        teams=_team_choices(),
    )


@bp.route("/projects/new", methods=["GET", "POST"])
@manager_required
def new_project() -> Response | str:
    form = ProjectForm()
    form.team_id.choices = choices(_team_choices())
    if form.validate_on_submit():
        project = attempt(
            lambda: records.create_project(
                db.session,
                actor=me(),
                name=form.name.data or "",
                team_id=form.team_id.data,
                start_date=form.start_date.data,
                description=form.description.data or "",
                status=form.status.data or "planned",
            )
        )
        if project is not None:
            flash(f"Created {project.name}. Now add what it needs.", "success")
            return redirect(url_for("staffing.project", project_id=project.id))
    return render_template("staffing/project_form.html", form=form, project=None)


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@manager_required
def edit_project(project_id: int) -> Response | str:
    project = records.get_project(db.session, project_id, me())
    form = ProjectForm(obj=project)
    form.team_id.choices = choices([(project.team_id, project.team.name)])
    if form.validate_on_submit():
        saved = attempt(
            lambda: records.update_project(
                db.session,
                project.id,
                actor=me(),
                name=form.name.data or "",
                start_date=form.start_date.data,
                description=form.description.data or "",
                status=form.status.data or project.status,
            )
        )
        if saved is not None:
            flash("Saved.", "success")
            return redirect(url_for("staffing.project", project_id=project.id))
    return render_template("staffing/project_form.html", form=form, project=project)


@bp.route("/projects/<int:project_id>")
@manager_required
def project(project_id: int) -> str:
    project = records.get_project(db.session, project_id, me())
    req_form, assign_form = RequirementForm(), AssignmentForm()
    req_form.skill_id.choices = choices(records.skill_choices(db.session))
    # The picker offers the project's team; people from other teams come in by CSV import.
    assign_form.user_id.choices = choices(records.assignable_people(db.session, [project.team_id]))
    rows = gaps.gaps(db.session, viewer=me(), project_ids=[project.id], with_assignees=True)
    return render_template(
        "staffing/project.html",
        project=project,
        gaps=rows,
        violations=violations.violations(db.session, rows),
        req_form=req_form,
        assign_form=assign_form,
        button=EmptyForm(),
        closed=project.status not in records.OPEN_STATUSES,
    )


@bp.route("/projects/<int:project_id>/gaps.csv")
@manager_required
def project_gaps_csv(project_id: int) -> Response:
    project = records.get_project(db.session, project_id, me())
    rows = gaps.gaps(db.session, viewer=me(), project_ids=[project.id])
    return csv_text_download(gap_csv(rows), f"gaps-project-{project.id}.csv")


def gap_csv(rows: list[gaps.RequirementGap]) -> str:
    headers = ["project", "team", "start_date", "skill", "min_level", "headcount", "importance"]
    headers += ["qualified", "missing", "level_shortfall", "people_not_counted"]
    return tabular.to_csv(
        headers,
        (
            [g.req.project_name, g.req.team_name, g.req.start_date.isoformat(), g.req.skill_name]
            + [g.req.min_level, g.req.headcount, g.req.importance, g.qualified, g.missing]
            + [g.shortfall, g.not_counted]
            for g in rows
        ),
    )


@bp.route("/projects/<int:project_id>/archive", methods=["POST"])
@manager_required
def archive_project(project_id: int) -> Response:
    project = records.archive_project(db.session, project_id, actor=me())
    db.session.commit()
    flash(f"Archived {project.name}: it no longer counts in gaps and plans.", "success")
    return redirect(url_for("staffing.projects"))


@bp.route("/projects/<int:project_id>/requirements", methods=["POST"])
@manager_required
def set_requirement(project_id: int) -> Response:
    records.get_project(db.session, project_id, me())
    form = RequirementForm()
    form.skill_id.choices = choices(records.skill_choices(db.session))
    if not form.validate_on_submit():
        flash("Check the requirement: " + _errors(form), "danger")
        return redirect(url_for("staffing.project", project_id=project_id))
    records.set_requirement(
        db.session,
        actor=me(),
        project_id=project_id,
        skill_id=form.skill_id.data,
        min_level=form.min_level.data or 0,
        headcount=form.headcount.data or 0,
        importance=form.importance.data or 0,
        allocation_pct=form.allocation_pct.data or 0,
    )
    db.session.commit()
    flash("Requirement saved.", "success")
    return redirect(url_for("staffing.project", project_id=project_id))


def _errors(form: object) -> str:
    errors = getattr(form, "errors", {})
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())


@bp.route("/requirements/<int:requirement_id>/delete", methods=["POST"])
@manager_required
def remove_requirement(requirement_id: int) -> Response:
    project_id = records.remove_requirement(db.session, requirement_id, actor=me())
    db.session.commit()
    flash("Requirement removed.", "success")
    return redirect(url_for("staffing.project", project_id=project_id))


@bp.route("/projects/<int:project_id>/assignments", methods=["POST"])
@manager_required
def assign(project_id: int) -> Response:
    project = records.get_project(db.session, project_id, me())
    form = AssignmentForm()
    form.user_id.choices = choices(records.assignable_people(db.session, [project.team_id]))
    if not form.validate_on_submit():
        flash("Check the assignment: " + _errors(form), "danger")
        return redirect(url_for("staffing.project", project_id=project_id))
    records.assign(
        db.session,
        actor=me(),
        project_id=project_id,
        user_id=form.user_id.data,
        allocation_pct=form.allocation_pct.data or 0,
    )
    db.session.commit()
    flash("Assignment saved.", "success")
    return redirect(url_for("staffing.project", project_id=project_id))


@bp.route("/assignments/<int:assignment_id>/delete", methods=["POST"])
@manager_required
def unassign(assignment_id: int) -> Response:
    project_id = records.unassign(db.session, assignment_id, actor=me())
    db.session.commit()
    flash("Taken off the project.", "success")
    return redirect(url_for("staffing.project", project_id=project_id))


@bp.route("/gaps")
@manager_required
def gap_report() -> str:
    rows = gaps.gaps(db.session, viewer=me(), team_ids=scope())
    return render_template(
        "staffing/gaps.html",
        projects=gaps.by_project(rows),
        not_counted=gaps.projects_not_fully_counted(rows),
        skills=gaps.by_skill(rows),
        total_missing=sum(g.missing for g in rows),
        total_slots=sum(g.req.headcount for g in rows),
    )


@bp.route("/gaps.csv")
@manager_required
def gap_report_csv() -> Response:
    rows = gaps.gaps(db.session, viewer=me(), team_ids=scope())
    return csv_text_download(gap_csv(rows), "gaps.csv")
