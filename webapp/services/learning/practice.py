"""Practice runs ("Run tests"): graded but not counted, so limited, lest the grader become an oracle
to query until the hidden tests leak: one run in flight per engineer and notebook, and a number per
engineer in any rolling hour. Submit (a counted attempt) is limited by neither.

The hourly limit is counted from the submissions table rather than by Flask-Limiter: the limiter
keeps its counters per process unless Redis is configured, while every web worker shares the
database, where the runs are stored anyway. The in-flight rule is also the partial unique index
``uq_submissions_practice_in_flight``, so two simultaneous clicks cannot both get through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.db import Session
from webapp.models import Submission, SubmissionMode, SubmissionStatus, User
from webapp.services.errors import PracticeRunRefused

IN_FLIGHT = (SubmissionStatus.QUEUED.value, SubmissionStatus.RUNNING.value)


@dataclass(frozen=True)
class PracticeLimit:
    per_hour: int = 10
    window: timedelta = timedelta(hours=1)


DEFAULT_LIMIT = PracticeLimit()


@dataclass(frozen=True)
class PracticeAllowance:
    """Where an engineer stands with practice runs of one notebook at a given moment."""

    per_hour: int
    used: int  # practice runs (of any notebook) in the last hour
    next_at: datetime | None  # when one is possible again, if none is left
    in_flight_id: int | None  # this notebook's run still being graded, if any

    @property
    def left(self) -> int:
        return max(self.per_hour - self.used, 0)

    def describe(self) -> str:
        """The sentence the notebook page shows by the Run tests button."""
        if self.per_hour <= 0:
            return "Run tests is switched off here; Submit is not limited."
        if self.left == 0 and self.next_at is not None:
            return (
                f"You have used all {self.per_hour} practice runs of the last hour; you can run "
                f"the tests again at {_clock(self.next_at)}. Submit is not limited."
            )
        return (
            f"You have {self.left} of {self.per_hour} practice runs left this hour; "
            "Submit is not limited."
        )


def _clock(moment: datetime) -> str:
    """``14:05 UTC``, rounded up to the minute so that the time said is never too early."""
    minute = moment.replace(second=0, microsecond=0)
    if minute < moment:
        minute += timedelta(minutes=1)
    return f"{minute:%H:%M} UTC"


def allowance(
    session: Session, *, user_id: int, notebook_id: int, limit: PracticeLimit, now: datetime
) -> PracticeAllowance:
    """How many practice runs the engineer has left, and which run of the notebook is pending."""
    times = list(
        session.scalars(
            select(Submission.submitted_at)
            .where(
                Submission.user_id == user_id,
                Submission.mode == SubmissionMode.CHECK.value,
                Submission.submitted_at > now - limit.window,
            )
            .order_by(Submission.submitted_at)
        )
    )
    in_flight = session.scalar(
        select(Submission.id).where(
            Submission.user_id == user_id,
            Submission.notebook_id == notebook_id,
            Submission.mode == SubmissionMode.CHECK.value,
            Submission.status.in_(IN_FLIGHT),
        )
    )
    over = len(times) - limit.per_hour
    next_at = times[over] + limit.window if limit.per_hour > 0 and over >= 0 else None
    return PracticeAllowance(limit.per_hour, len(times), next_at, in_flight)


def ensure_allowed(
    session: Session, *, user_id: int, notebook_id: int, limit: PracticeLimit, now: datetime
) -> None:
    """Raise PracticeRunRefused, saying when to try again, unless a practice run may start now."""
    # On PostgreSQL one engineer's practice requests wait for each other here, so the count
    # below is exact; NO KEY UPDATE leaves rows that only reference the user unblocked.
    # SQLite ignores the lock (it has one writer at a time anyway).
    session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))
    state = allowance(session, user_id=user_id, notebook_id=notebook_id, limit=limit, now=now)
    if state.in_flight_id is not None:
        raise PracticeRunRefused(
            f"Your earlier test run of this notebook (#{state.in_flight_id}) is still being "
            "graded; you can run the tests again once it is done. Submit is not limited."
        )
    if state.left == 0:
        raise PracticeRunRefused(state.describe())


def add_run(
    session: Session, submission: Submission, *, limit: PracticeLimit, now: datetime
) -> None:
    """Store a practice run if its engineer may start one now; raises PracticeRunRefused and
    stores nothing otherwise. A refusal leaves the caller's transaction usable (a savepoint)."""
    user_id, notebook_id = submission.user_id, submission.notebook_id
    ensure_allowed(session, user_id=user_id, notebook_id=notebook_id, limit=limit, now=now)
    try:
        with session.begin_nested():
            session.add(submission)
    except IntegrityError as exc:  # a simultaneous request stored its run first
        ensure_allowed(session, user_id=user_id, notebook_id=notebook_id, limit=limit, now=now)
        raise PracticeRunRefused(
            "Another test run of this notebook started at the same moment; wait for its result."
        ) from exc
