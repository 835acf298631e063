"""Command line (``flask --app webapp …`` or ``skillforge …``): thin wrappers over services."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from gunicorn.app.base import BaseApplication

from webapp import tasks
from webapp.extensions import db, queue
from webapp.grading.autograde import grade_files
from webapp.grading.notebook import InvalidNotebook
from webapp.services import accounts, demo, roster, taxonomy
from webapp.services.errors import DomainError, RowErrors


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _sync_taxonomy() -> None:
    tax, problems = taxonomy.load_taxonomy(Path(current_app.config["COURSES_PATH"]) / "skills.toml")
    if tax is None:
        _fail("courses/skills.toml has problems:\n  " + "\n  ".join(problems))
    assert tax is not None
    taxonomy.sync_taxonomy(db.session, tax)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the database, or upgrade it to the latest schema, and load the skill taxonomy."""
    upgrade()
    _sync_taxonomy()
    db.session.commit()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create (or keep) the demo organisation and print its logins."""
    upgrade()
    _sync_taxonomy()
    logins = demo.build_demo(db.session)
    db.session.commit()
    click.echo(
        f"Demo organisation ready. Log in with any of these (password: {demo.DEMO_PASSWORD}):"
    )
    for login in logins:
        click.echo(f"  {login.role:<9} {login.email:<36} {login.name}")


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
        _fail(exc.message)
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
        _fail(f"{len(exc.errors)} bad row(s); nothing was imported:\n{lines}")
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.message)
    db.session.commit()
    created = [r for r in results if r.created]
    click.echo(
        f"Imported {len(results)} row(s): {len(created)} created, "
        f"{len(results) - len(created)} updated."
    )
    for r in created:
        click.echo(f"  {r.email:<40} initial password: {r.initial_password}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option(
    "--grading/--no-grading",
    default=True,
    show_default=True,
    help="Also run a grading worker (turn off when dedicated workers run elsewhere).",
)
@with_appcontext
def serve_command(host: str, port: int, workers: int, grading: bool) -> None:
    """Run Skillforge with gunicorn, plus a grading worker (docs/deployment.md for production)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    engine = db.engine
    engine.dispose()
    if grading:
        grader = multiprocessing.get_context("fork").Process(
            target=run_worker,
            args=(app, int(app.config["GRADER_WORKERS"])),
            daemon=True,
            name="skillforge-grading",
        )
        grader.start()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")
            # Each worker opens its own database connections, never the master's.
            self.cfg.set("post_fork", lambda _server, _worker: engine.dispose(close=False))

        def load(self) -> Flask:
            return app  # type: ignore[no-any-return]

    click.echo(f"Skillforge is running at http://{host}:{port}/  (Ctrl-C stops it)")
    try:
        Server().run()
    finally:
        if grading:
            grader.terminate()


@click.command("worker")
@click.option("--workers", type=int, default=None, help="Grading threads (GRADER_WORKERS).")
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Run a grading worker: takes jobs from the queue (SQLite or Redis) until stopped."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_worker(app, workers or int(app.config["GRADER_WORKERS"]))


def run_worker(app: Flask, workers: int) -> None:
    tasks.bind_app(app)
    probe = tasks.get_grader(app)  # refuse to start without a sandbox, and warm the pool now
    click.echo(
        f"Grading worker ready: sandbox {probe.backend}, {workers} thread(s), "
        f"queue {type(queue.storage).__name__}"
    )
    try:
        queue.create_consumer(workers=workers, worker_type="thread").run()
    finally:
        tasks.close_grader()


@click.command("grade")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("submission", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def grade_command(source: Path, submission: Path, as_json: bool) -> None:
    """Grade SUBMISSION against the nbgrader SOURCE notebook, in the sandbox."""
    try:
        result = grade_files(source, submission, tasks.grader_config(current_app))
    except InvalidNotebook as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    for gid, cell in result.cells.items():
        points = "needs review" if cell.points is None else f"{cell.points:g}/{cell.max_points:g}"
        click.echo(f"{gid:<32} {cell.status:<8} {points}  {cell.message or ''}".rstrip())
    click.echo(f"Total: {result.total:g} / {result.max_total:g}  (sandbox: {result.sandbox})")


def register_commands(app: Flask) -> None:
    for command in (
        init_command,
        demo_command,
        users_cli,
        serve_command,
        worker_command,
        grade_command,
    ):
        app.cli.add_command(command)
