"""A team's training plan: shown from the cache, solved on demand, exported and printed."""

from __future__ import annotations

from flask import Response, current_app, render_template

from webapp.db import db
from webapp.services import tabular
from webapp.services.people import teams
from webapp.services.planning import plan as planning
from webapp.services.planning.plan import PlanReport
from webapp.services.staffing import gaps
from webapp.settings import settings_of
from webapp.staffing import bp
from webapp.web.access import manager_required, me, require_team_view
from webapp.web.downloads import csv_text_download
from webapp.web.forms import EmptyForm


def _plan(team_id: int, *, solve_now: bool) -> tuple[planning.PlanInputs, PlanReport | None]:
    """The team's plan for the current data, solving it when asked (or when not cached)."""
    settings = settings_of(current_app)
    return planning.cached_or_solve(
        db.session,
        team_id,
        settings.plan_for(),
        solve_now=solve_now,
        what_if_time_s=settings.plan_what_if_s,
    )


def _render(team_id: int, report: PlanReport | None, inputs: planning.PlanInputs) -> str:
    team = teams.get_team(db.session, team_id)
    return render_template(
        "staffing/plan.html",
        team=team,
        report=report,
        inputs=inputs,
        button=EmptyForm(),
        time_limit=settings_of(current_app).plan.time_limit_s,
    )


@bp.route("/teams/<int:team_id>/plan")
@manager_required
def plan(team_id: int) -> str:
    require_team_view(team_id)
    inputs, report = _plan(team_id, solve_now=False)
    return _render(team_id, report, inputs)


@bp.route("/teams/<int:team_id>/plan", methods=["POST"])
@manager_required
def solve_plan(team_id: int) -> str:
    """Solve now and show the result in this response (the cache is per process)."""
    require_team_view(team_id)
    inputs, report = _plan(team_id, solve_now=True)
    return _render(team_id, report, inputs)


@bp.route("/teams/<int:team_id>/plan.csv")
@manager_required
def plan_csv(team_id: int) -> Response:
    require_team_view(team_id)
    _, report = _plan(team_id, solve_now=True)
    assert report is not None
    return csv_text_download(plan_table(report), f"plan-team-{team_id}.csv")


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
    """A printable page: the team's project gaps and its last plan (print stylesheet)."""
    require_team_view(team_id)
    inputs, plan_report = _plan(team_id, solve_now=False)
    rows = gaps.gaps(db.session, viewer=me(), team_ids=[team_id])
    return render_template(
        "staffing/report.html",
        team=teams.get_team(db.session, team_id),
        gaps=rows,
        projects=gaps.by_project(rows),
        not_counted=gaps.projects_not_fully_counted(rows),
        report=plan_report,
    )
