"""Team pages for the team's managers and for admins."""

from flask import Blueprint

bp = Blueprint("teams", __name__, url_prefix="/teams")

from webapp.teams import views  # noqa: E402,F401
