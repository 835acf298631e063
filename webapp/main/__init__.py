"""The home page, which differs by role, and the health check."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from webapp.main import views  # noqa: E402,F401
