"""Skill pages: my skills, my gaps, what my manager sees, team matrices and trends."""

from flask import Blueprint

# No URL prefix: engineer pages live under /skills, team pages under /teams/<id>/…
bp = Blueprint("skills", __name__)

from webapp.skills import views  # noqa: E402,F401
