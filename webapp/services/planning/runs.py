"""Plans as stored jobs: a manager asks, a worker solves, every server process reads the result.

A ``PlanRun`` is requested (at most one waiting or running per team at a time), claimed by one
worker, solved with its stage written as it goes (so the page can show live progress), and kept
with its inputs' digest, its solver figures and the whole report as JSON. No web request solves:
pages read runs, and say when the data changed since the newest one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from webapp.db import Session
from webapp.models import PlanRun, PlanRunStatus, Team, User
from webapp.models.planning import PLAN_RUN_PENDING
from webapp.services import audit
from webapp.services.errors import NotFound
from webapp.services.planning import plan as planning
from webapp.services.planning.optimiser_model import PlanSettings
from webapp.services.planning.plan import PlanReport

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = (s.value for s in PlanRunStatus)
WAITING_STAGE = "Waiting for a worker to start"


def settings_json(settings: PlanSettings) -> dict[str, Any]:
    body = dataclasses.asdict(settings)
    body["today"] = settings.today.isoformat() if settings.today else None
    return body


def settings_from_json(body: dict[str, Any]) -> PlanSettings:
    known = {f.name for f in dataclasses.fields(PlanSettings)}
    values = {k: v for k, v in body.items() if k in known}
    if values.get("today"):
        values["today"] = date.fromisoformat(values["today"])
    return PlanSettings(**values)


def _scope(team_id: int | None) -> Any:
    return PlanRun.team_id.is_(None) if team_id is None else PlanRun.team_id == team_id


def pending(session: Session, team_id: int | None) -> PlanRun | None:
    """The team's run that is waiting or being solved, if any."""
    return session.scalar(
        select(PlanRun)
        .where(_scope(team_id), PlanRun.status.in_(PLAN_RUN_PENDING))
        .order_by(PlanRun.id.desc())
        .limit(1)
    )


def latest(session: Session, team_id: int | None) -> PlanRun | None:
    """The team's newest solved plan."""
    return session.scalar(
        select(PlanRun)
        .where(_scope(team_id), PlanRun.status == DONE)
        .order_by(PlanRun.id.desc())
        .limit(1)
    )


def last_failure(session: Session, team_id: int | None) -> PlanRun | None:
    """The team's newest run, when it failed (so the page can say so)."""
    run = session.scalar(
        select(PlanRun)
        .where(_scope(team_id), PlanRun.status.in_((DONE, FAILED)))
        .order_by(PlanRun.id.desc())
        .limit(1)
    )
    return run if run is not None and run.status == FAILED else None


def history(session: Session, team_id: int | None, *, limit: int = 50) -> list[PlanRun]:
    """The team's runs, newest first."""
    return list(
        session.scalars(
            select(PlanRun).where(_scope(team_id)).order_by(PlanRun.id.desc()).limit(limit)
        )
    )


def get_run(session: Session, run_id: int, team_id: int | None) -> PlanRun:
    """A run of the team; NotFound otherwise (never another team's)."""
    run = session.get(PlanRun, run_id)
    if run is None or run.team_id != team_id:
        raise NotFound(f"This team has no plan {run_id}; pick one from the team's plan history.")
    return run


def request(
    session: Session,
    *,
    team_id: int | None,
    actor: User | None,
    settings: PlanSettings,
    verified_only: bool = False,
    now: datetime,
) -> tuple[PlanRun, bool]:
    """Ask for the team's plan to be computed: (the run, whether it is new). While one is waiting
    or running, asking again gives that one instead of queueing a second."""
    if team_id is not None and session.get(Team, team_id) is None:
        raise NotFound(f"There is no team {team_id}.")
    waiting = pending(session, team_id)
    if waiting is not None:
        return waiting, False
    run = PlanRun(
        team_id=team_id,
        requested_by_id=actor.id if actor else None,
        status=QUEUED,
        verified_only=verified_only,
        settings=settings_json(settings),
        stage=WAITING_STAGE,
        stage_started_at=now,
        requested_at=now,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="plan.request",
        target_type="team",
        target_id=team_id,
        plan_run_id=run.id,
        verified_only=verified_only,
    )
    return run, True


def claim(session: Session, run_id: int, *, now: datetime) -> PlanRun | None:
    """Take a queued run for this worker (atomically); None when another has it or it is gone."""
    taken = session.execute(
        update(PlanRun)
        .where(PlanRun.id == run_id, PlanRun.status == QUEUED)
        .values(status=RUNNING, started_at=now, stage="Starting", stage_started_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(PlanRun, run_id)


def hand_back(session: Session, run_id: int) -> bool:
    """Return a run being solved to the queue (its worker is stopping); False when it is not
    being solved any more."""
    taken = session.execute(
        update(PlanRun)
        .where(PlanRun.id == run_id, PlanRun.status == RUNNING)
        .values(status=QUEUED, started_at=None, stage=WAITING_STAGE)
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def compute(
    session: Session,
    run: PlanRun,
    *,
    what_if_time_s: float,
    commit: Callable[[], None],
    now: Callable[[], datetime],
) -> PlanRun:
    """Solve a claimed run and store its report; a failure is stored with what to do next."""

    def stage(text: str) -> None:
        run.stage, run.stage_started_at = text, now()
        commit()

    try:
        stage("Reading the engineers, projects and workshops")
        settings = settings_from_json(run.settings)
        team_ids = None if run.team_id is None else [run.team_id]
        inputs = planning.load_inputs(session, team_ids, verified_only=run.verified_only)
        lenders = (
            planning.load_lenders(session, team_ids, verified_only=run.verified_only)
            if team_ids
            else ()
        )
        report = planning.solve(
            inputs, settings, what_if_time_s=what_if_time_s, on_stage=stage, lenders=lenders
        )
    except Exception:  # the optimiser or the data: say so on the page, keep the worker
        session.rollback()
        log.exception("plan run %s failed", run.id)
        run.status, run.finished_at, run.stage = FAILED, now(), ""
        run.error = (
            "The plan could not be computed. Press “Compute the plan” to try again; if it fails "
            "again, tell an admin (the worker's log has the details)."
        )
        commit()
        return run
    store(run, inputs, report, finished_at=now())
    commit()
    return run


def store(
    run: PlanRun, inputs: planning.PlanInputs, report: PlanReport, *, finished_at: datetime
) -> None:
    """Keep a solved report on its run, with the figures the history lists."""
    p = report.plan
    run.status, run.stage, run.finished_at = DONE, "", finished_at
    run.digest = report.digest
    run.inputs = {
        "engineers": len(inputs.engineers),
        "requirements": len(inputs.requirements),
        "slots": report.slots,
        "workshops": len(inputs.workshops),
        "accepted": sum(len(w) for w in inputs.accepted.values()),
    }
    run.result = report.to_json()
    run.solver_status, run.objective = p.status, p.objective
    run.gap = p.gap if p.gap != float("inf") else None
    run.training_hours, run.unfilled_slots, run.slots = (
        p.training_hours,
        p.unfilled_slots,
        report.slots,
    )
    run.solve_seconds = p.solve_seconds


def record_solved(
    session: Session,
    *,
    team_id: int,
    inputs: planning.PlanInputs,
    report: PlanReport,
    settings: PlanSettings,
    verified_only: bool,
    requested_at: datetime,
    now: datetime,
) -> PlanRun:
    """Keep a plan solved outside the queue (the ``staffing plan`` command) as the team's newest,
    so the team's pages show it."""
    run = PlanRun(
        team_id=team_id,
        status=RUNNING,
        verified_only=verified_only,
        settings=settings_json(settings),
        requested_at=requested_at,
        started_at=requested_at,
    )
    session.add(run)
    store(run, inputs, report, finished_at=now)
    session.flush()
    return run


def report_of(run: PlanRun) -> PlanReport:
    assert run.result is not None, "only a solved run has a report"
    return PlanReport.from_json(run.result)


def is_current(session: Session, run: PlanRun) -> bool:
    """Whether the data a plan was solved on is still the data (same digest, same settings)."""
    team_ids = None if run.team_id is None else [run.team_id]
    inputs = planning.load_inputs(session, team_ids, verified_only=run.verified_only)
    return inputs.digest(settings_from_json(run.settings)) == run.digest


def stalled(
    session: Session, *, now: datetime, queued_for: timedelta, running_for: timedelta
) -> list[int]:
    """Runs whose job was lost (queued too long) or whose worker died (running too long); the
    running ones are put back in the queue. The caller commits and queues their jobs again."""
    lost = list(
        session.scalars(
            select(PlanRun.id).where(
                PlanRun.status == QUEUED, PlanRun.requested_at < now - queued_for
            )
        )
    )
    dead = list(
        session.scalars(
            select(PlanRun.id).where(
                PlanRun.status == RUNNING, PlanRun.started_at < now - running_for
            )
        )
    )
    if dead:
        session.execute(
            update(PlanRun)
            .where(PlanRun.id.in_(dead))
            .values(status=QUEUED, stage=WAITING_STAGE, stage_started_at=now)
        )
    return sorted(lost + dead)


# --- comparing two plans -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanChanges:
    """What changed from an older plan to a newer one of the same team, in sentences."""

    older: PlanRun
    newer: PlanRun
    added: tuple[str, ...]  # lines only the newer plan has
    removed: tuple[str, ...]  # lines only the older plan had
    changed: tuple[tuple[str, str], ...]  # same engineer and requirement, other training
    unfilled_before: tuple[str, ...]
    unfilled_after: tuple[str, ...]

    @property
    def hours_delta(self) -> float:
        return (self.newer.training_hours or 0.0) - (self.older.training_hours or 0.0)

    @property
    def unfilled_delta(self) -> int:
        return (self.newer.unfilled_slots or 0) - (self.older.unfilled_slots or 0)


def compare(older: PlanRun, newer: PlanRun) -> PlanChanges:
    if older.id > newer.id:
        older, newer = newer, older
    a, b = report_of(older), report_of(newer)
    before = {line.key: line.sentence for line in a.lines}
    after = {line.key: line.sentence for line in b.lines}
    both = before.keys() & after.keys()
    old_gaps = {u.sentence for u in a.unfilled}
    new_gaps = {u.sentence for u in b.unfilled}
    return PlanChanges(
        older,
        newer,
        tuple(after[k] for k in after if k not in before),
        tuple(before[k] for k in before if k not in after),
        tuple((before[k], after[k]) for k in sorted(both) if before[k] != after[k]),
        tuple(sorted(old_gaps - new_gaps)),
        tuple(sorted(new_gaps - old_gaps)),
    )
