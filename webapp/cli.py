"""Command line (``flask --app webapp …`` or ``skillforge …``): thin wrappers over services."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import sys
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
import nbformat
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from gunicorn.app.base import BaseApplication
from sqlalchemy import select

from webapp import tasks
from webapp.extensions import db, queue
from webapp.grading.autograde import Grader, GraderConfig, GradeResult, grade_files
from webapp.grading.notebook import InvalidNotebook
from webapp.models import Team
from webapp.services import (
    accounts,
    bigdemo,
    catalog,
    catalog_check,
    catalog_source,
    demo,
    passwords,
    planning,
    roster,
)
from webapp.services.errors import DomainError, RowErrors


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _sync_catalog(path: Path | None = None) -> catalog.SyncResult:
    """Sync courses/ (taxonomy, workshops, notebooks) and commit; fails listing every problem."""
    root = path or Path(current_app.config["COURSES_PATH"])
    result = catalog.sync_catalog(db.session, root, actor=None)
    db.session.commit()  # the catalog, or on failure only the log of the attempt
    if not result.ok:
        lines = "\n".join(f"  {p}" for p in result.problems)
        _fail(f"{result.summary} Fix these and run `flask courses sync` again:\n{lines}")
    return result


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the database, or upgrade it to the latest schema, and sync the workshop catalog."""
    upgrade()
    _sync_catalog()
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
    _sync_catalog()
    logins = demo.build_demo(db.session)
    db.session.commit()
    if engineers > 0:
        _build_big_org(engineers, skills, projects)
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
@click.option(
    "--feedback",
    "feedback_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the graded notebook the engineer is shown to this .ipynb file.",
)
@with_appcontext
def grade_command(
    source: Path, submission: Path, as_json: bool, feedback_path: Path | None
) -> None:
    """Grade SUBMISSION against the nbgrader SOURCE notebook, in the sandbox."""
    try:
        result = grade_files(source, submission, tasks.grader_config(current_app))
    except InvalidNotebook as exc:
        _fail(str(exc))
    if feedback_path is not None:
        _write_feedback(result, feedback_path)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    for gid, cell in result.cells.items():
        points = "needs review" if cell.points is None else f"{cell.points:g}/{cell.max_points:g}"
        click.echo(f"{gid:<32} {cell.status:<8} {points}  {cell.message or ''}".rstrip())
    click.echo(f"Total: {result.total:g} / {result.max_total:g}  (sandbox: {result.sandbox})")


def _write_feedback(result: GradeResult, path: Path) -> None:
    """Write the graded notebook exactly as the web app stores and shows it (hidden tests out)."""
    feedback = nbformat.from_dict(tasks.to_outcome(result).feedback)
    try:
        nbformat.write(feedback, path)
    except OSError as exc:
        _fail(f"Cannot write the feedback notebook {path}: {exc.strerror or exc}")


courses_cli = click.Group("courses", help="Publish and check the workshop catalog (courses/).")


@courses_cli.command("sync")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def courses_sync_command(path: Path | None) -> None:
    """Validate PATH (default: the courses folder) and publish all of it, or nothing."""
    result = _sync_catalog(path)
    click.echo(result.summary)


@courses_cli.command("check")
@click.argument("slug", required=False)
@click.option(
    "--wrong-answers",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also run the wrong answers in this folder (<slug>.toml files).",
)
@with_appcontext
def courses_check_command(slug: str | None, wrong_answers: Path | None) -> None:
    """Grade every notebook's solution (must score full) and student version (must score 0)."""
    source, problems = catalog_source.load_catalog(Path(current_app.config["COURSES_PATH"]))
    if source is None:
        _fail(
            "The courses do not validate; run `flask courses sync` to see why:\n  "
            + "\n  ".join(problems)
        )
    assert source is not None
    courses = [c for c in source.courses if slug in (None, c.slug)]
    if not courses:
        _fail(f"No workshop '{slug}' in the courses folder.")
    config = tasks.grader_config(current_app)
    with ExitStack() as stack:
        jobs = []
        for course in courses:
            data_dir = stack.enter_context(catalog_check.staged_data(course))
            jobs += catalog_check.check_jobs(course, data_dir)
            if wrong_answers is not None:
                extra, bad = catalog_check.wrong_answer_jobs(
                    course, wrong_answers / f"{course.slug}.toml", data_dir
                )
                jobs += extra
                problems += bad
        outcomes = _run_checks(config, jobs)
    failed = [o for o in outcomes if not o.ok]
    for outcome in failed:
        click.echo(f"FAIL {outcome.job.label}", err=True)
        for failure in outcome.failures:
            click.echo(f"  {failure}", err=True)
    for problem in problems:
        click.echo(f"PROBLEM {problem}", err=True)
    if failed or problems:
        _fail(f"{len(failed)} of {len(outcomes)} check(s) failed.")
    click.echo(f"All {len(outcomes)} check(s) passed for {len(courses)} workshop(s).")


def _run_checks(config: GraderConfig, jobs: list[catalog_check.CheckJob]) -> list[Any]:
    with (
        Grader(config) as grader,
        click.progressbar(length=len(jobs), label="Grading notebooks", file=sys.stderr) as bar,
    ):
        return catalog_check.run_jobs(
            grader, jobs, workers=config.pool_size, on_done=lambda _o: bar.update(1)
        )


def _build_big_org(engineers: int, skills: int, projects: int) -> None:
    click.echo(f"Building a large organisation: {engineers} engineers, {skills} skills, ...")
    summary = bigdemo.build_big_org(
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
        f"Managers log in as mgr001@{bigdemo.BIG_DOMAIN} … (password: {demo.DEMO_PASSWORD})."
    )


staffing_cli = click.Group("staffing", help="Staffing plans.")


@staffing_cli.command("plan")
@click.option("--team", default=None, help="Team name or id (default: the whole organisation).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--time-limit", type=float, default=None, help="Seconds (default PLAN_TIME_LIMIT_S).")
@click.option(
    "--per-team",
    is_flag=True,
    help="Solve each team's engineers against its own projects (for organisations too large "
    "to solve as one model).",
)
@with_appcontext
def staffing_plan_command(
    team: str | None, as_json: bool, time_limit: float | None, per_team: bool
) -> None:
    """Solve the training plan that closes the staffing gaps, and print it."""
    team_ids = None if team is None else [_team_id(team)]
    settings = planning.settings_from_config(current_app.config)
    if time_limit is not None:
        settings = dataclasses.replace(settings, time_limit_s=time_limit)
    if per_team and team is None:
        _plan_per_team(settings, as_json)
        return
    inputs = planning.load_inputs(db.session, team_ids)
    click.echo(
        f"Solving for {len(inputs.engineers)} engineers and {len(inputs.requirements)} "
        f"requirements (at most {settings.time_limit_s:g} s)...",
        err=True,
    )
    with _Ticker():
        report = planning.solve(inputs, settings, what_ifs=False)
    if as_json:
        body = report.plan.to_json()
        body["explanations"] = [line.sentence for line in report.lines]
        click.echo(json.dumps(body, indent=2))
        return
    click.echo(report.status_text)
    click.echo(
        f"Training: {report.plan.training_hours:g} h; unfilled slots: {report.plan.unfilled_slots}"
        f" of {report.slots}; objective {report.plan.objective:g}."
    )
    for line in report.lines:
        click.echo(f"  {line.sentence}")
    for gap in report.unfilled:
        click.echo(f"  {gap.sentence}")


def _plan_per_team(settings: planning.PlanSettings, as_json: bool) -> None:
    reports = []
    team_ids = planning.team_ids_with_requirements(db.session)
    click.echo(f"Solving {len(team_ids)} teams one by one...", err=True)
    with _Ticker():
        for tid in team_ids:
            inputs = planning.load_inputs(db.session, [tid])
            reports.append((tid, planning.solve(inputs, settings, what_ifs=False)))
    body = planning.combine(reports)
    if as_json:
        click.echo(json.dumps(body, indent=2))
        return
    click.echo(
        f"{len(reports)} team plans, status {body['status']} (worst gap {body['gap']}): "
        f"training {body['training_hours']:g} h; unfilled slots: {body['unfilled_slots']}."
    )
    for sentence in body["explanations"]:  # type: ignore[attr-defined]
        click.echo(f"  {sentence}")


class _Ticker:
    """Prints a dot a second on stderr while the solver works (it holds no Python lock).

    While it runs, file descriptor 1 points at stderr, so native code cannot write to stdout.
    """

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            click.echo(".", err=True, nl=False)

    def __enter__(self) -> _Ticker:
        # HiGHS prints a banner from C on its standard output; keep stdout clean for --json.
        sys.stdout.flush()
        self.saved_fd = os.dup(1)
        os.dup2(2, 1)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        sys.stdout.flush()
        os.dup2(self.saved_fd, 1)
        os.close(self.saved_fd)
        click.echo(" done.", err=True)


def _team_id(team: str) -> int:
    found = db.session.scalar(
        select(Team.id).where(
            (Team.name == team) | (Team.id == (int(team) if team.isdigit() else -1))
        )
    )
    if found is None:
        _fail(f"No team '{team}'. Give a team's exact name or its id.")
    return int(found)  # type: ignore[arg-type]


def register_commands(app: Flask) -> None:
    for command in (
        init_command,
        demo_command,
        users_cli,
        courses_cli,
        serve_command,
        worker_command,
        grade_command,
        staffing_cli,
    ):
        app.cli.add_command(command)
