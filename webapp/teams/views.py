"""A team's page: its managers and engineers."""

from __future__ import annotations

from flask import Response, render_template

from webapp.db import db
from webapp.services.access import policy
from webapp.services.learning import overview
from webapp.services.people import teams
from webapp.teams import bp
from webapp.web.access import manager_required, me, require_team_view
from webapp.web.downloads import csv_download


@bp.route("/<int:team_id>")
@manager_required
def show(team_id: int) -> str:
    team = teams.get_team(db.session, team_id)
    require_team_view(team.id)
    return render_template("teams/show.html", team=team, members=teams.members(db.session, team.id))


@bp.route("/<int:team_id>/members.csv")
@manager_required
def members_export(team_id: int) -> Response:
    team = teams.get_team(db.session, team_id)
    require_team_view(team.id)
    rows = [
        (m.name, m.email, "manager" if m.is_manager else "engineer")
        for m in teams.members(db.session, team.id)
    ]
    return csv_download(f"team-{team.id}-members.csv", ["name", "email", "role_in_team"], rows)


@bp.route("/export.csv")
@manager_required
def teams_export() -> Response:
    """The home page's teams table: the teams the viewer manages (every team for admins)."""
    user = me()
    scope = policy.team_scope(db.session, user)
    rows = [
        (t.name, t.engineers, t.managers, t.projects) for t in overview.team_rows(db.session, scope)
    ]
    return csv_download("teams.csv", ["team", "engineers", "managers", "projects"], rows)
