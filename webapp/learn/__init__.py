"""The workshop catalog for everyone logged in: the catalog, a workshop, a rendered notebook."""

from flask import Blueprint

bp = Blueprint("learn", __name__)

from webapp.learn import live, views, work  # noqa: E402,F401
