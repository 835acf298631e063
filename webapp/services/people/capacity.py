"""A person's capacity: availability (share of time for projects), weekly learning budget and
holidays. Set by their manager or an admin, on the page or by the roster import; the optimiser
plans within it (``planning``) and the project pages check assignments against it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete

from webapp.db import Session
from webapp.models import UnavailablePeriod, User
from webapp.services import audit
from webapp.services.access import policy
from webapp.services.errors import InvalidInput, NotFound, PermissionDenied

MAX_HOURS_PER_WEEK = 40.0
MAX_HOLIDAYS = 50
RANGE_EXAMPLE = "2027-04-01 to 2027-04-09"


@dataclass(frozen=True)
class Capacity:
    """What the form or a roster row says; ``hours_per_week`` None means the default budget."""

    availability_pct: int
    hours_per_week: float | None
    holidays: tuple[tuple[date, date], ...]


def parse_availability(text: str) -> int:
    value = text.strip().removesuffix("%").strip()
    if not value.isdigit() or int(value) > 100:
        raise InvalidInput(
            f"Availability must be a whole number of percent from 0 to 100 (80 for four days "
            f"a week); “{text.strip()}” is not."
        )
    return int(value)


def parse_hours(text: str) -> float | None:
    value = text.strip().removesuffix("h").strip()
    if not value:
        return None
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if not 0 <= hours <= MAX_HOURS_PER_WEEK:
        raise InvalidInput(
            f"Learning hours per week must be a number from 0 to {MAX_HOURS_PER_WEEK:g}, or "
            f"empty for the organisation's default; “{text.strip()}” is not."
        )
    return hours


def parse_holidays(text: str) -> tuple[tuple[date, date], ...]:
    """Date ranges, one per line or separated by ";": "2027-04-01 to 2027-04-09", or one day."""
    spans = []
    for part in text.replace(";", "\n").splitlines():
        if part.strip():
            spans.append(_parse_range(part.strip()))
    if len(spans) > MAX_HOLIDAYS:
        raise InvalidInput(
            f"At most {MAX_HOLIDAYS} holiday ranges per person; merge some ({len(spans)} given)."
        )
    return tuple(sorted(spans))


def _parse_range(part: str) -> tuple[date, date]:
    ends = [p.strip() for p in part.replace("..", " to ").split(" to ")]
    try:
        first, last = date.fromisoformat(ends[0]), date.fromisoformat(ends[-1])
    except ValueError:
        raise InvalidInput(
            f"Holiday “{part}” is not a date range: write the first and last day as "
            f"YYYY-MM-DD, e.g. {RANGE_EXAMPLE}, one range per line."
        ) from None
    if len(ends) > 2 or last < first:
        raise InvalidInput(
            f"Holiday “{part}” must go from its first day to its last, e.g. {RANGE_EXAMPLE}."
        )
    return first, last


def parse_capacity(availability: str, hours: str, holidays: str) -> Capacity:
    """The three fields as typed; raises InvalidInput saying what to write instead."""
    return Capacity(parse_availability(availability), parse_hours(hours), parse_holidays(holidays))


def holidays_text(user: User) -> str:
    """The person's holidays as the form and the roster export write them."""
    return "; ".join(f"{p.starts_on} to {p.ends_on}" for p in user.unavailable)


def person_to_edit(session: Session, person_id: int, actor: User | None) -> User:
    """The person whose capacity ``actor`` may set: their manager or an admin (the command
    line: anyone). Raises NotFound or PermissionDenied."""
    person = session.get(User, person_id)
    if person is None:
        raise NotFound("There is no such person.")
    if actor is not None and not policy.can_assess(session, actor, person.id):
        raise PermissionDenied(
            "Only this person's manager or an admin can change their availability, learning "
            "time and holidays."
        )
    return person


def set_capacity(
    session: Session, *, person_id: int, capacity: Capacity, actor: User | None
) -> User:
    """Store the person's capacity, replacing their holidays; audited. Raises NotFound or
    PermissionDenied; the caller commits."""
    person = person_to_edit(session, person_id, actor)
    apply_capacity(session, person, capacity)
    audit.record(
        session,
        actor=actor,
        action="person.capacity",
        target_type="user",
        target_id=person.id,
        availability_pct=capacity.availability_pct,
        hours_per_week=capacity.hours_per_week,
        holidays=[[a.isoformat(), b.isoformat()] for a, b in capacity.holidays],
    )
    session.flush()
    return person


def apply_capacity(session: Session, person: User, capacity: Capacity) -> None:
    """Write the values onto the person (no checks, no audit): for ``set_capacity`` and the
    roster import, which check and audit for themselves."""
    person.availability_pct = capacity.availability_pct
    person.learning_hours_per_week = capacity.hours_per_week
    session.execute(delete(UnavailablePeriod).where(UnavailablePeriod.user_id == person.id))
    session.expire(person, ["unavailable"])
    for first, last in capacity.holidays:
        session.add(UnavailablePeriod(user_id=person.id, starts_on=first, ends_on=last))
