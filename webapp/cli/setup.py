"""Setting up: the database and catalog (``init``) and the demo organisation (``demo``)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade

from webapp.cli.common import sync_courses
from webapp.db import db
from webapp.seed import bigorg, demo
from webapp.services.people import passwords


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the database, or upgrade it to the latest schema, and sync the workshop catalog."""
    upgrade()
    sync_courses()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("demo")
@click.option("--engineers", default=0, show_default=True, help="Also build a large org this big.")
@click.option("--skills", default=150, show_default=True, help="Skills of the large org.")
@click.option("--projects", default=300, show_default=True, help="Projects of the large org.")
@with_appcontext
def demo_command(engineers: int, skills: int, projects: int) -> None:
    """Create (or keep) the demo organisation and print its logins.

    With --engineers N, also build a large synthetic organisation for scale tests.
    """
    upgrade()
    sync_courses()
    logins = demo.build_demo(db.session)
    db.session.commit()
    if engineers > 0:
        _build_big_org(engineers, skills, projects)
    click.echo(
        f"Demo organisation ready. Log in with any of these (password: {demo.DEMO_PASSWORD}):"
    )
    for login in logins:
        click.echo(f"  {login.role:<9} {login.email:<36} {login.name}")


def _build_big_org(engineers: int, skills: int, projects: int) -> None:
    click.echo(f"Building a large organisation: {engineers} engineers, {skills} skills, ...")
    summary = bigorg.build_big_org(
        db.session,
        engineers=engineers,
        skills=skills,
        projects=projects,
        password_hash=passwords.hash_password(demo.DEMO_PASSWORD),
    )
    db.session.commit()
    if not summary.created:
        click.echo("The large organisation exists already; nothing was added.")
        return
    click.echo(
        f"Large organisation ready: {summary.teams} teams, {summary.engineers} engineers, "
        f"{summary.skills} skills, {summary.workshops} generated workshops, "
        f"{summary.projects} projects ({summary.requirements} requirements, "
        f"{summary.assignments} assignments), {summary.evidence} evidence rows. "
        f"Managers log in as mgr001@{bigorg.BIG_DOMAIN} … (password: {demo.DEMO_PASSWORD})."
    )
