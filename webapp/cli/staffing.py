"""``staffing``: training plans from the command line."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from webapp.cli.common import fail
from webapp.db import db
from webapp.models import Team
from webapp.services.planning import plan, runs
from webapp.services.words import count
from webapp.settings import settings_of

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
@click.option(
    "--verified-only", is_flag=True, help="Plan on verified levels only (claims are ignored)."
)
@with_appcontext
def staffing_plan_command(
    team: str | None,
    as_json: bool,
    time_limit: float | None,
    per_team: bool,
    verified_only: bool,
) -> None:
    """Solve the training plan that closes the staffing gaps, and print it.

    A team's plan (``--team``, or each team's with ``--per-team``) is kept as the team's newest
    plan, so its plan page shows it and its lines can be accepted there."""
    team_ids = None if team is None else [_team_id(team)]
    settings = settings_of(current_app).plan_for()
    if time_limit is not None:
        settings = dataclasses.replace(settings, time_limit_s=time_limit)
    if per_team and team is None:
        _plan_per_team(settings, as_json, verified_only)
        return
    started = datetime.now(UTC)
    inputs = plan.load_inputs(db.session, team_ids, verified_only=verified_only)
    click.echo(
        f"Solving for {count(len(inputs.engineers), 'engineer')} and "
        f"{count(len(inputs.requirements), 'requirement')} "
        f"(at most {settings.time_limit_s:g} s)...",
        err=True,
    )
    with _Ticker():
        report = plan.solve(inputs, settings, what_ifs=False)
    if team_ids is not None:
        _keep(team_ids[0], inputs, report, settings, verified_only, started)
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


def _keep(
    team_id: int,
    inputs: plan.PlanInputs,
    report: plan.PlanReport,
    settings: plan.PlanSettings,
    verified_only: bool,
    started: datetime,
) -> None:
    runs.record_solved(
        db.session,
        team_id=team_id,
        inputs=inputs,
        report=report,
        settings=settings,
        verified_only=verified_only,
        requested_at=started,
        now=datetime.now(UTC),
    )
    db.session.commit()


def _plan_per_team(settings: plan.PlanSettings, as_json: bool, verified_only: bool) -> None:
    reports = []
    team_ids = plan.team_ids_with_requirements(db.session)
    click.echo(f"Solving {count(len(team_ids), 'team')} one by one...", err=True)
    with _Ticker():
        for tid in team_ids:
            started = datetime.now(UTC)
            inputs = plan.load_inputs(db.session, [tid], verified_only=verified_only)
            report = plan.solve(inputs, settings, what_ifs=False)
            _keep(tid, inputs, report, settings, verified_only, started)
            reports.append((tid, report))
    body = plan.combine(reports)
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
        fail(f"No team '{team}'. Give a team's exact name or its id.")
    return int(found)  # type: ignore[arg-type]
