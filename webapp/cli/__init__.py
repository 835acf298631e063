"""Command line (``flask --app webapp …`` or ``skillforge …``): one module per command group,
each a thin wrapper over services."""

from __future__ import annotations

from flask import Flask

from webapp.cli.backup import backup_command, housekeeping_command, restore_command
from webapp.cli.courses import courses_cli
from webapp.cli.database import db_cli
from webapp.cli.grade import grade_command
from webapp.cli.kernels import kernels_cli
from webapp.cli.server import serve_command, worker_command
from webapp.cli.setup import demo_command, init_command
from webapp.cli.staffing import staffing_cli
from webapp.cli.users import users_cli


def register_commands(app: Flask) -> None:
    for command in (
        init_command,
        demo_command,
        users_cli,
        courses_cli,
        serve_command,
        worker_command,
        grade_command,
        kernels_cli,
        staffing_cli,
        backup_command,
        restore_command,
        housekeeping_command,
        db_cli,  # in place of Flask-Migrate's own ``db``: the same, downgrade asks for --yes
    ):
        app.cli.add_command(command)
