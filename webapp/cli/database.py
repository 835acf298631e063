"""``db``: Flask-Migrate's migration commands, with ``downgrade`` asking for ``--yes``."""

from __future__ import annotations

from typing import Any

import click
from flask_migrate.cli import db as migrate_db

from webapp.cli.common import fail

_downgrade = migrate_db.commands["downgrade"]


def _guarded(yes: bool, **options: Any) -> None:
    if not yes and not options.get("sql"):
        fail(
            "Downgrading undoes migrations, and that drops the tables and columns they made, with "
            "their data (the first one drops every table). Take a backup first, then run the "
            "same command again with --yes. (--sql prints the statements without running them.)"
        )
    _downgrade.callback(**options)  # type: ignore[misc]


downgrade = click.Command(
    "downgrade",
    callback=_guarded,
    params=[
        *_downgrade.params,
        click.Option(["--yes"], is_flag=True, help="Really downgrade (it can drop data)."),
    ],
    help=(_downgrade.help or "") + " Asks for --yes: it can drop tables and their data.",
)

db_cli = click.Group(
    "db",
    commands={**migrate_db.commands, "downgrade": downgrade},
    params=migrate_db.params,
    callback=migrate_db.callback,
    help=migrate_db.help,
)
