"""``users``: creating accounts, importing a roster CSV, roles, deactivation and reset links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app, url_for
from flask.cli import with_appcontext

from webapp.cli.common import fail
from webapp.db import db
from webapp.models import User
from webapp.services import tabular
from webapp.services.errors import DomainError
from webapp.services.people import accounts, lifecycle, roster
from webapp.services.words import count

users_cli = click.Group(
    "users", help="Create users, import rosters, change roles, deactivate, make reset links."
)


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
@click.argument("csv_file", type=click.File("rb"))
@click.option(
    "--invitations",
    "links_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the new people's invitation links to this CSV file (default: print them).",
)
@with_appcontext
def import_roster_command(csv_file: Any, links_file: Path | None) -> None:
    """Import a roster CSV (email, name, team, role; optionally availability_pct,
    learning_hours_per_week, holidays): every row, or none when any is bad. New people get an
    invitation link (BASE_URL is the address in it) to choose their password."""
    data = csv_file.read()
    try:
        with click.progressbar(length=max(data.count(b"\n"), 1), label="Checking") as bar:
            rows, problems = roster.check_roster(data, progress=bar.update)
        if problems:
            lines = "\n".join(
                f"  line {p.line}, {p.column or 'row'}: {p.message}" for p in problems[:200]
            )
            more = f"\n  … and {len(problems) - 200} more" if len(problems) > 200 else ""
            fail(f"{count(len(problems), 'problem')}; nothing was imported:\n{lines}{more}")
        plan = roster.plan_roster(db.session, rows)
        result = roster.apply_roster(db.session, plan, actor=None, now=datetime.now(UTC))
    except DomainError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()
    summary = result.summary
    click.echo(
        f"Imported {count(summary['rows'], 'row')}: {summary['new_people']} new (invited), "
        f"{summary['updated']} updated, {summary['moved']} moved, "
        f"{count(len(summary['new_teams']), 'new team')}."
    )
    links = _invitation_links(result.created_ids)
    if links_file is not None:
        links_file.write_text(tabular.to_csv(("email", "name", "invitation"), links), "utf-8")
        click.echo(
            f"Invitation links of {count(len(links), 'new person', 'new people')}: {links_file}"
        )
    else:
        for email, _, link in links:
            click.echo(f"  {email:<40} {link}")


def _invitation_links(user_ids: list[int]) -> list[tuple[str, str, str]]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    secret = str(app.config["SECRET_KEY"])
    with app.test_request_context(base_url=str(app.config["BASE_URL"])):
        return [
            (email, name, url_for("auth.invitation", token=token, _external=True))
            for email, name, token in lifecycle.invitations(db.session, user_ids, secret=secret)
        ]


def _person(email: str) -> User:
    user = accounts.find_by_email(db.session, email)
    if user is None:
        fail(f"No user has the email {email}; `skillforge users create` makes one.")
    assert user is not None
    return user


def _run(action: Callable[[], object]) -> None:
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        fail(exc.message)
    db.session.commit()


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(["engineer", "manager", "admin"]))
@with_appcontext
def set_role_command(email: str, role: str) -> None:
    """Change a user's role (ends their sessions; the last active admin keeps the role)."""
    user = _person(email)
    _run(
        lambda: lifecycle.update_user(
            db.session,
            actor=None,
            user_id=user.id,
            display_name=user.display_name,
            email=user.email,
            role=role,
            now=datetime.now(UTC),
        )
    )
    click.echo(f"{user.email} is now {role}.")


def _set_active(email: str, active: bool) -> None:
    user = _person(email)
    _run(
        lambda: lifecycle.set_active(
            db.session, actor=None, user_id=user.id, active=active, now=datetime.now(UTC)
        )
    )
    click.echo(f"{'Reactivated' if active else 'Deactivated'} {user.email}.")


@users_cli.command("deactivate")
@click.argument("email")
@with_appcontext
def deactivate_command(email: str) -> None:
    """Deactivate a user: ends their sessions, revokes their API tokens, keeps their history."""
    _set_active(email, False)


@users_cli.command("reactivate")
@click.argument("email")
@with_appcontext
def reactivate_command(email: str) -> None:
    """Let a deactivated user log in again."""
    _set_active(email, True)


@users_cli.command("reset-link")
@click.argument("email")
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="The address people open the app at.",
)
@with_appcontext
def reset_link_command(email: str, base_url: str) -> None:
    """Print a one-time password reset link for a user (it expires; send it to them)."""
    user = _person(email)
    made: list[str] = []
    secret = str(current_app.config["SECRET_KEY"])
    _run(
        lambda: made.append(
            lifecycle.reset_token(db.session, actor=None, user_id=user.id, secret=secret)[1]
        )
    )
    with current_app.test_request_context(base_url=base_url):
        click.echo(url_for("auth.reset_password", token=made[0], _external=True))
