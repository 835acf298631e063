"""A team's training plan as a stored job: ask for it, watch it being solved, read it from any
server process, compare it with earlier ones, accept its lines, and track the training.

No GET here runs the optimiser: a POST queues a plan job, a worker solves it, pages read it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from webapp import jobs
from webapp.db import db
from webapp.models import PlanRun
from webapp.services import tabular
from webapp.services.errors import InvalidInput, NotFound
from webapp.services.people import teams
from webapp.services.planning import assignments, runs
from webapp.services.planning.plan import PlanReport
from webapp.services.staffing import gaps
from webapp.settings import settings_of
from webapp.staffing import bp
from webapp.staffing.forms import PlanRequestForm
from webapp.web.access import manager_required, me, require_team_view
from webapp.web.downloads import csv_download, csv_text_download
from webapp.web.forms import EmptyForm, attempt


def _now() -> datetime:
    return datetime.now(UTC)


@bp.route("/teams/<int:team_id>/plan")
@manager_required
def plan(team_id: int) -> str:
    """The team's newest plan (and the one being solved, live), with the accept form."""
    require_team_view(team_id)
    session = db.session
    run = runs.latest(session, team_id)
    report = runs.report_of(run) if run else None
    return render_template(
        "staffing/plan.html",
        team=teams.get_team(session, team_id),
        run=run,
        report=report,
        current=runs.is_current(session, run) if run else False,
        accepted=assignments.accepted_keys(session, report) if report else set(),
        waiting=runs.pending(session, team_id),
        failure=runs.last_failure(session, team_id),
        form=PlanRequestForm(),
        button=EmptyForm(),
        now=_now(),
        time_limit=settings_of(current_app).plan.time_limit_s,
    )


@bp.route("/teams/<int:team_id>/plan", methods=["POST"])
@manager_required
def request_plan(team_id: int) -> BaseResponse:
    """Queue the team's plan for a worker (or point at the one already queued)."""
    require_team_view(team_id)
    form = PlanRequestForm()
    if form.validate_on_submit():
        settings = settings_of(current_app).plan_for()
        made = attempt(
            lambda: runs.request(
                db.session,
                team_id=team_id,
                actor=me(),
                settings=settings,
                verified_only=bool(form.verified_only.data),
                now=_now(),
            )
        )
        if made is not None:
            run, new = made
            if new and not jobs.enqueue(jobs.compute_plan, run.id):
                flash(jobs.QUEUE_AWAY, "warning")
            elif new:
                flash("The plan is being computed; this page shows its progress.", "info")
            else:
                flash(
                    "A plan for this team is already being computed; here is its progress.", "info"
                )
    return redirect(url_for("staffing.plan", team_id=team_id))


def _stored(team_id: int, run_id: int | None) -> tuple[PlanRun, PlanReport]:
    run = (
        runs.latest(db.session, team_id)
        if run_id is None
        else runs.get_run(db.session, run_id, team_id)
    )
    if run is None or run.result is None:
        raise NotFound(
            "No plan has been computed for this team yet: press “Compute the plan” on the "
            "plan page first."
        )
    return run, runs.report_of(run)


@bp.route("/teams/<int:team_id>/plan.csv")
@manager_required
def plan_csv(team_id: int) -> Response:
    """The newest stored plan as CSV (or the one named by ``?run=``)."""
    require_team_view(team_id)
    run, report = _stored(team_id, request.args.get("run", type=int))
    return csv_text_download(plan_table(report), f"plan-team-{team_id}-{run.id}.csv")


def plan_table(report: PlanReport) -> str:
    """Every plan line and unfilled slot as CSV rows, with the explanation in words."""
    headers = ["engineer", "project", "skill", "level", "start_date", "workshops", "hours"]
    rows: list[list[object]] = [
        [line.engineer, line.project, line.skill, line.level, line.due.isoformat()]
        + ["; ".join(t for t, _ in line.workshops), f"{line.hours:g}", line.sentence]
        for line in report.lines
    ]
    rows += [
        ["(unfilled)", u.project, u.skill, u.level_name, "", "", "", u.sentence]
        for u in report.unfilled
    ]
    return tabular.to_csv([*headers, "explanation"], rows)


@bp.route("/teams/<int:team_id>/report")
@manager_required
def report(team_id: int) -> str:
    """A printable page: the team's project gaps and its newest plan (print stylesheet)."""
    require_team_view(team_id)
    run = runs.latest(db.session, team_id)
    rows = gaps.gaps(db.session, viewer=me(), team_ids=[team_id])
    return render_template(
        "staffing/report.html",
        team=teams.get_team(db.session, team_id),
        gaps=rows,
        projects=gaps.by_project(rows),
        not_counted=gaps.projects_not_fully_counted(rows),
        report=runs.report_of(run) if run else None,
    )


# --- history and comparing ---------------------------------------------------------------------

HISTORY_HEADERS = [
    "plan",
    "requested_at",
    "requested_by",
    "status",
    "verified_only",
    "solver_status",
    "gap",
    "training_hours",
    "unfilled_slots",
    "slots",
    "solve_seconds",
]


def _history_rows(team_id: int) -> list[list[object]]:
    return [
        [
            r.id,
            r.requested_at.strftime("%Y-%m-%d %H:%M"),
            r.requested_by.display_name if r.requested_by else "command line",
            r.status,
            "yes" if r.verified_only else "no",
            r.solver_status or "",
            "" if r.gap is None else f"{r.gap:.1%}",
            "" if r.training_hours is None else f"{r.training_hours:g}",
            "" if r.unfilled_slots is None else r.unfilled_slots,
            "" if r.slots is None else r.slots,
            "" if r.solve_seconds is None else f"{r.solve_seconds:.1f}",
        ]
        for r in runs.history(db.session, team_id)
    ]


@bp.route("/teams/<int:team_id>/plans")
@manager_required
def plan_history(team_id: int) -> str:
    require_team_view(team_id)
    return render_template(
        "staffing/plan_history.html",
        team=teams.get_team(db.session, team_id),
        history=runs.history(db.session, team_id),
    )


@bp.route("/teams/<int:team_id>/plans.csv")
@manager_required
def plan_history_csv(team_id: int) -> Response:
    require_team_view(team_id)
    return csv_download(f"plans-team-{team_id}.csv", HISTORY_HEADERS, _history_rows(team_id))


@bp.route("/teams/<int:team_id>/plans/<int:run_id>")
@manager_required
def past_plan(team_id: int, run_id: int) -> str:
    require_team_view(team_id)
    run = runs.get_run(db.session, run_id, team_id)
    return render_template(
        "staffing/plan_past.html",
        team=teams.get_team(db.session, team_id),
        run=run,
        report=runs.report_of(run) if run.result else None,
    )


@bp.route("/teams/<int:team_id>/plans/compare")
@manager_required
def compare_plans(team_id: int) -> str:
    """What changed between two of the team's solved plans (``?older=&newer=``)."""
    require_team_view(team_id)
    ids = [request.args.get(k, type=int) for k in ("older", "newer")]
    if None in ids:
        raise InvalidInput("Pick two plans to compare from the history.")
    pair = [runs.get_run(db.session, i, team_id) for i in ids if i is not None]
    if any(r.result is None for r in pair):
        raise InvalidInput("Only solved plans can be compared; pick two with a result.")
    return render_template(
        "staffing/plan_compare.html",
        team=teams.get_team(db.session, team_id),
        changes=runs.compare(pair[0], pair[1]),
    )


# --- from plan to action -----------------------------------------------------------------------


@bp.route("/teams/<int:team_id>/plans/<int:run_id>/accept", methods=["POST"])
@manager_required
def accept_plan(team_id: int, run_id: int) -> BaseResponse:
    """Accept the ticked lines (``line``), or every line (``all``)."""
    require_team_view(team_id)
    form = EmptyForm()
    if form.validate_on_submit():
        keys = None if request.form.get("all") else request.form.getlist("line")
        done = attempt(
            lambda: assignments.accept(
                db.session, actor=me(), team_id=team_id, run_id=run_id, keys=keys
            )
        )
        if done is not None:
            flash(done.message, "success")
            return redirect(url_for("staffing.training", team_id=team_id))
    return redirect(url_for("staffing.plan", team_id=team_id))


TRAINING_HEADERS = [
    "engineer",
    "workshop",
    "hours",
    "project",
    "skill",
    "level",
    "due_date",
    "status",
    "passed_on",
    "assigned_by",
    "plan",
]


@bp.route("/teams/<int:team_id>/training")
@manager_required
def training(team_id: int) -> str:
    """Progress against the accepted plans: every training assignment on the team's projects."""
    require_team_view(team_id)
    found = assignments.rows(db.session, today=_now().date(), team_id=team_id)
    return render_template(
        "staffing/training.html",
        team=teams.get_team(db.session, team_id),
        rows=found,
        tally=assignments.tally(found),
        timeline=assignments.timeline(found),
        button=EmptyForm(),
    )


@bp.route("/teams/<int:team_id>/training.csv")
@manager_required
def training_csv(team_id: int) -> Response:
    require_team_view(team_id)
    found = assignments.rows(db.session, today=_now().date(), team_id=team_id)
    body = [
        [
            r.engineer,
            r.workshop,
            f"{r.hours:g}",
            r.project,
            r.skill,
            r.level_name,
            r.due.isoformat(),
            r.status,
            r.passed_on.isoformat() if r.passed_on else "",
            r.assigned_by,
            r.plan_run_id or "",
        ]
        for r in found
    ]
    return csv_download(f"training-team-{team_id}.csv", TRAINING_HEADERS, body)


@bp.route("/training/<int:assignment_id>/withdraw", methods=["POST"])
@manager_required
def withdraw_training(assignment_id: int) -> BaseResponse:
    """Take back one assigned workshop (403 for someone who may not staff the engineer)."""
    form = EmptyForm()
    team_id = request.form.get("team_id", type=int)
    if form.validate_on_submit():
        said, team_id = assignments.withdraw(db.session, actor=me(), assignment_id=assignment_id)
        db.session.commit()
        flash(said, "success")
    if team_id is None:
        return redirect(url_for("staffing.projects"))
    return redirect(url_for("staffing.training", team_id=team_id))
