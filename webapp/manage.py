"""The ``skillforge`` console script: Flask's command line bound to the app factory."""

from __future__ import annotations

from flask.cli import FlaskGroup

from webapp import create_app

main = FlaskGroup(create_app=lambda: create_app(), help="Skillforge command line.")
