"""Roster import: a CSV of (email, name, team, role), stored whole or not at all.

Optional columns set capacity (``people.capacity``): ``availability_pct``,
``learning_hours_per_week`` ("default" for the organisation's) and ``holidays`` (ranges
separated by ";", "none" for none). An empty cell leaves the value as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select

from webapp.db import Session
from webapp.models import Role, Team, TeamMembership, User
from webapp.services import audit, tabular
from webapp.services.errors import DomainError, InvalidInput, RowErrors
from webapp.services.people import accounts, capacity, lifecycle, passwords, sessions

COLUMNS = ("email", "name", "team", "role")
OPTIONAL = ("availability_pct", "learning_hours_per_week", "holidays")
LIMITS = {  # the longest cells the database columns hold (the same answer on every database)
    "email": ("email", User.__table__.c.email.type.length),
    "name": ("name", User.__table__.c.display_name.type.length),
    "team": ("team name", Team.__table__.c.name.type.length),
}


@dataclass(frozen=True)
class CapacityCells:
    """The optional capacity cells as parsed; None leaves the value as it is."""

    availability_pct: int | None = None
    hours_per_week: tuple[float | None] | None = None  # (hours,) when set; (None,): default
    holidays: tuple[tuple[date, date], ...] | None = None

    def applied_to(self, user: User) -> capacity.Capacity | None:
        """The user's capacity with these cells written over it, or None if none is set."""
        if self == CapacityCells():
            return None
        current = tuple((p.starts_on, p.ends_on) for p in user.unavailable)
        hours = self.hours_per_week
        return capacity.Capacity(
            user.availability_pct if self.availability_pct is None else self.availability_pct,
            user.learning_hours_per_week if hours is None else hours[0],
            current if self.holidays is None else self.holidays,
        )


def parse_capacity_cells(values: dict[str, str]) -> CapacityCells:
    """Raises InvalidInput with what to write instead."""
    pct, hours, away = (values.get(c, "").strip() for c in OPTIONAL)
    return CapacityCells(
        capacity.parse_availability(pct) if pct else None,
        None
        if not hours
        else (None if hours.lower() == "default" else capacity.parse_hours(hours),),
        None if not away else (() if away.lower() == "none" else capacity.parse_holidays(away)),
    )


@dataclass(frozen=True)
class RosterRow:
    line: int
    email: str
    name: str
    team: str
    role: Role
    capacity: CapacityCells = field(default_factory=CapacityCells)


@dataclass(frozen=True)
class ImportedUser:
    email: str
    created: bool
    initial_password: str | None  # shown once to the admin for new accounts


def parse_roster(text: bytes | str) -> list[RosterRow]:
    """Parse and check every row; raises RowErrors listing each bad line, or InvalidInput."""
    try:
        header, found = tabular.records(text, (*COLUMNS, *OPTIONAL))
    except tabular.CsvUnreadable as exc:
        raise InvalidInput(str(exc)) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            f"The roster needs a header row with the columns {', '.join(COLUMNS)}; "
            f"missing: {', '.join(missing)}."
        )
    rows: list[RosterRow] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for line, record in found:
        try:
            rows.append(_parse_row(line, record, seen))
        except DomainError as exc:
            errors.append((line, exc.message))
    if errors:
        raise RowErrors(errors)
    if not rows:
        raise InvalidInput("The roster has a header but no rows.")
    return rows


def _parse_row(line: int, record: dict[str, str | None], seen: dict[str, int]) -> RosterRow:
    values = {c: (record.get(c) or "").strip() for c in (*COLUMNS, *OPTIONAL)}
    empty = [c for c in COLUMNS if not values[c]]
    if empty:
        raise InvalidInput(f"empty {', '.join(empty)}")
    wrong = tabular.too_long(values, LIMITS)
    if wrong:
        raise InvalidInput(wrong)
    email = accounts.normalise_email(values["email"])
    if email in seen:
        raise InvalidInput(f"{email} appears again (first on line {seen[email]})")
    seen[email] = line
    return RosterRow(
        line,
        email,
        values["name"],
        values["team"],
        accounts.parse_role(values["role"]),
        parse_capacity_cells(values),
    )


def import_roster(session: Session, text: bytes | str, *, actor: User | None) -> list[ImportedUser]:
    """Create new users and update existing ones (name, role, team) from a roster CSV.

    A row's team is the person's team: someone listed in another team than theirs is moved
    (they leave the teams they were a member of; a manager keeps the other teams they manage).
    Team names match an existing team whatever their case and spacing. Every row is checked
    before anything is written; the caller commits once. Raises RowErrors.
    """
    results = []
    rows = parse_roster(text)
    teams = accounts.TeamFinder(session)
    moved = 0
    for row in rows:
        user = accounts.find_by_email(session, row.email)
        initial = None
        if user is None:
            initial = passwords.generate_password()
            user = accounts.create_user(
                session,
                email=row.email,
                display_name=row.name,
                password=initial,
                role=row.role,
                actor=actor,
            )
        else:
            lifecycle.guard_last_admin(session, user, role=row.role.value, active=user.active)
            if user.role != row.role.value:
                sessions.end_all(session, user.id, now=datetime.now(UTC), why="role")
            user.display_name, user.role = row.name, row.role.value
        new_capacity = row.capacity.applied_to(user)
        if new_capacity is not None:
            capacity.apply_capacity(session, user, new_capacity)
        team = teams.get_or_create(row.team)
        moved += _leave_other_teams(session, user, team, keep_managed=row.role == Role.MANAGER)
        accounts.join_team(session, user=user, team=team, as_manager=row.role == Role.MANAGER)
        results.append(ImportedUser(row.email, initial is not None, initial))
    created = sum(r.created for r in results)
    with_capacity = sum(row.capacity != CapacityCells() for row in rows)
    audit.record(
        session,
        actor=actor,
        action="roster.import",
        target_type="roster",
        target_id=None,
        rows=len(results),
        created=created,
        moved=moved,
        capacity_set=with_capacity,
    )
    session.flush()
    return results


def _leave_other_teams(session: Session, user: User, team: Team, *, keep_managed: bool) -> int:
    """Remove ``user`` from every team but ``team`` (a manager keeps the teams they manage);
    1 when they left a team they were a member of (a move), else 0."""
    if user.id is None:
        return 0
    left = 0
    for membership in session.scalars(
        select(TeamMembership).where(
            TeamMembership.user_id == user.id, TeamMembership.team_id != team.id
        )
    ):
        if keep_managed and membership.is_manager:
            continue
        left |= not membership.is_manager
        session.delete(membership)
    return left
