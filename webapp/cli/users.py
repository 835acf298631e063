"""``users``: creating accounts and importing a roster CSV."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext

from webapp.cli.common import fail
from webapp.db import db
from webapp.services.errors import DomainError, RowErrors
from webapp.services.people import accounts, roster
from webapp.services.words import count

users_cli = click.Group("users", help="Create users and import rosters.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice(["engineer", "manager", "admin"]), default="engineer")
@click.option("--team", default=None, help="Team to join (created if new).")
@click.password_option(help="Initial password (asked for when not given).")
@with_appcontext
def create_user_command(
    email: str, display_name: str, role: str, team: str | None, password: str
) -> None:
    """Create a user."""
    try:
        user = accounts.create_user(
            db.session,
            email=email,
            display_name=display_name,
            password=password,
            role=role,
            actor=None,
            team=team,
        )
    except DomainError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@users_cli.command("import-roster")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
def import_roster_command(csv_file: Any) -> None:
    """Import a roster CSV (email, name, team, role): every row, or none when any is bad."""
    try:
        results = roster.import_roster(db.session, csv_file.read(), actor=None)
    except RowErrors as exc:
        db.session.rollback()
        lines = "\n".join(f"  line {n}: {m}" for n, m in exc.errors)
        fail(f"{count(len(exc.errors), 'bad row')}; nothing was imported:\n{lines}")
    except DomainError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    created = [r for r in results if r.created]
    click.echo(
        f"Imported {count(len(results), 'row')}: {len(created)} created, "
        f"{len(results) - len(created)} updated."
    )
    for r in created:
        click.echo(f"  {r.email:<40} initial password: {r.initial_password}")
