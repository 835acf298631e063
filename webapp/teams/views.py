"""A team's page: its managers and engineers."""

from __future__ import annotations

from flask import render_template

from webapp.access import manager_required, require_team_view
from webapp.extensions import db
from webapp.services import teams
from webapp.teams import bp


@bp.route("/<int:team_id>")
@manager_required
def show(team_id: int) -> str:
    team = teams.get_team(db.session, team_id)
    require_team_view(team.id)
    return render_template("teams/show.html", team=team, members=teams.members(db.session, team.id))
