"""Roster import: a CSV of (email, name, team, role), checked whole, previewed, then written in
one short transaction of bulk statements — or not at all.

Three steps, so that an import of 100,000 rows never holds a web request or the database's
write lock for long: ``check_roster`` reads the file and lists every problem by row and column
(nothing is written); ``plan_roster`` reads what exists and works out every change (the
preview); ``apply_roster`` writes them with a few statements per table. New people get an
invitation — a one-time link to choose their password (``lifecycle.invitation_token``) —
instead of a password hashed per row.

A row's team is the person's team: someone listed in another team is moved (they leave the teams
they were a member of; a manager keeps the other teams they manage). Team names match whatever
their case and spacing. Optional columns set capacity (``people.capacity``):
``availability_pct``, ``learning_hours_per_week`` ("default" for the organisation's) and
``holidays`` (ranges separated by ";", "none" for none). An empty cell leaves the value as it is.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update

from webapp.db import Session
from webapp.models import Role, Team, TeamMembership, UnavailablePeriod, User, UserSession
from webapp.services import audit, tabular
from webapp.services.errors import DomainError, InvalidInput, RowErrors
from webapp.services.people import accounts, capacity
from webapp.services.people.passwords import INVITED
from webapp.services.rows import IN_LIST, chunks

COLUMNS = ("email", "name", "team", "role")
OPTIONAL = ("availability_pct", "learning_hours_per_week", "holidays")
LIMITS = {  # the longest cells the database columns hold (the same answer on every database)
    "email": ("email", User.__table__.c.email.type.length),
    "name": ("name", User.__table__.c.display_name.type.length),
    "team": ("team name", Team.__table__.c.name.type.length),
}
MAX_PROBLEMS = 1000  # problems kept for the page (all are counted)
SAMPLE = 20  # changes shown in the preview

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Problem:
    line: int
    column: str  # "" for the row or the file as a whole
    message: str


@dataclass(frozen=True)
class CapacityCells:
    """The optional capacity cells as parsed; None leaves the value as it is."""

    availability_pct: int | None = None
    hours_per_week: tuple[float | None] | None = None  # (hours,) when set; (None,): default
    holidays: tuple[tuple[date, date], ...] | None = None

    @property
    def empty(self) -> bool:
        return self == CapacityCells()


@dataclass(frozen=True)
class RosterRow:
    line: int
    email: str
    name: str
    team: str
    role: Role
    capacity: CapacityCells = field(default_factory=CapacityCells)


# --- check: every problem by row and column ------------------------------------------------------


def check_roster(
    text: bytes | str, *, progress: Progress | None = None
) -> tuple[list[RosterRow], list[Problem]]:
    """Parse and check every row; the rows that are good, and every problem found. Raises
    InvalidInput when the file as a whole cannot be read (its encoding, header, quoting)."""
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
    if not found:
        raise InvalidInput("The roster has a header but no rows.")
    rows: list[RosterRow] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, (line, record) in enumerate(found, start=1):
        row, wrong = _check_row(line, record, seen)
        if wrong:
            problems.extend(wrong)
        elif row is not None:
            rows.append(row)
        if progress is not None and number % 1000 == 0:
            progress(1000)
    if progress is not None:
        progress(len(found) % 1000)
    return rows, problems


def _check_row(
    line: int, record: dict[str, str | None], seen: dict[str, int]
) -> tuple[RosterRow | None, list[Problem]]:
    values = {c: (record.get(c) or "").strip() for c in (*COLUMNS, *OPTIONAL)}
    problems = [Problem(line, c, "empty: every row needs one") for c in COLUMNS if not values[c]]
    for column, (what, most) in LIMITS.items():
        if len(values[column]) > most:
            problems.append(Problem(line, column, f"the {what} is longer than {most} characters"))
    email = _check_email(line, values["email"], seen, problems)
    role = None
    if values["role"]:
        try:
            role = accounts.parse_role(values["role"])
        except DomainError as exc:
            problems.append(Problem(line, "role", exc.message))
    cells = _check_capacity(line, values, problems)
    if problems or email is None or role is None:
        return None, problems
    team = " ".join(values["team"].split())
    return RosterRow(line, email, values["name"], team, role, cells), []


def _check_email(line: int, text: str, seen: dict[str, int], problems: list[Problem]) -> str | None:
    if not text or any(p.column == "email" for p in problems):
        return None
    try:
        email = accounts.normalise_email(text)
    except DomainError as exc:
        problems.append(Problem(line, "email", exc.message))
        return None
    if email in seen:
        problems.append(
            Problem(line, "email", f"{email} appears again (first on line {seen[email]})")
        )
        return None
    seen[email] = line
    return email


def _check_capacity(line: int, values: dict[str, str], problems: list[Problem]) -> CapacityCells:
    cells: dict[str, Any] = {}
    for column, parse in (
        ("availability_pct", capacity.parse_availability),
        ("learning_hours_per_week", _parse_hours),
        ("holidays", _parse_holidays),
    ):
        if values[column]:
            try:
                cells[column] = parse(values[column])
            except DomainError as exc:
                problems.append(Problem(line, column, exc.message))
    return CapacityCells(
        cells.get("availability_pct"), cells.get("learning_hours_per_week"), cells.get("holidays")
    )


def _parse_hours(text: str) -> tuple[float | None]:
    return (None,) if text.lower() == "default" else (capacity.parse_hours(text),)


def _parse_holidays(text: str) -> tuple[tuple[date, date], ...]:
    return () if text.lower() == "none" else capacity.parse_holidays(text)


# --- plan: what the import would change ---------------------------------------------------------


@dataclass
class _Person:
    id: int
    name: str
    role: str
    active: bool


@dataclass
class RosterPlan:
    """Every change an import makes, worked out before anything is written."""

    rows: list[RosterRow]
    people: dict[str, _Person]  # existing accounts by email
    teams: dict[str, int]  # existing teams by folded name
    new_teams: dict[str, str]  # folded name -> name as first written
    memberships: dict[int, list[tuple[int, int, bool]]]  # user -> (membership, team, manager)
    summary: dict[str, Any]
    sample: list[tuple[int, str, str]]  # (line, email, what changes)


def plan_roster(session: Session, rows: list[RosterRow]) -> RosterPlan:
    """Read what exists and describe the changes; raises InvalidInput when the import would
    leave the organisation without an active admin."""
    people = {
        email: _Person(i, name, role, active)
        for i, email, name, role, active in session.execute(
            select(User.id, User.email, User.display_name, User.role, User.active)
        )
    }
    team_names = dict(session.execute(select(Team.id, Team.name)).all())
    teams = {tabular.fold(n): i for i, n in team_names.items()}
    memberships: dict[int, list[tuple[int, int, bool]]] = {}
    for mid, uid, tid, manager in session.execute(
        select(
            TeamMembership.id,
            TeamMembership.user_id,
            TeamMembership.team_id,
            TeamMembership.is_manager,
        )
    ):
        memberships.setdefault(uid, []).append((mid, tid, manager))
    new_teams: dict[str, str] = {}
    counts = dict.fromkeys(
        ("new_people", "updated", "unchanged", "moved", "role_changes", "capacity_set"), 0
    )
    sample: list[tuple[int, str, str]] = []
    for row in rows:
        folded = tabular.fold(row.team)
        if folded not in teams:
            new_teams.setdefault(folded, row.team)
        person = people.get(row.email)
        if not row.capacity.empty:
            counts["capacity_set"] += 1
        if person is None:
            counts["new_people"] += 1
            what = f"new {row.role.value} in {row.team}, invited"
        else:
            changes = _changes(row, person, memberships.get(person.id, []), teams, team_names)
            if any(c.startswith("moved") for c in changes):
                counts["moved"] += 1
            if person.role != row.role.value:
                counts["role_changes"] += 1
            if changes or not row.capacity.empty:
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
            what = "; ".join(changes) or ("capacity" if not row.capacity.empty else "")
        if what and len(sample) < SAMPLE:
            sample.append((row.line, row.email, what))
    _guard_admins(people, rows)
    summary = {**counts, "rows": len(rows), "new_teams": sorted(new_teams.values())}
    return RosterPlan(rows, people, teams, new_teams, memberships, summary, sample)


def _changes(
    row: RosterRow,
    person: _Person,
    held: list[tuple[int, int, bool]],
    teams: dict[str, int],
    names: dict[int, str],
) -> list[str]:
    changes = []
    if person.name != row.name:
        changes.append(f"name {person.name} → {row.name}")
    if person.role != row.role.value:
        changes.append(f"role {person.role} → {row.role.value}")
    target = teams.get(tabular.fold(row.team))
    left = [
        names[t] for _, t, manager in held if t != target and not manager
    ]  # the teams they are a member of elsewhere
    if left:
        changes.append(f"moved from {', '.join(sorted(left))} to {row.team}")
    elif target is None or not any(t == target for _, t, _ in held):
        changes.append(f"joins {row.team}")
    if not person.active:
        changes.append("stays deactivated (reactivate on their page)")
    return changes


def _guard_admins(people: dict[str, _Person], rows: list[RosterRow]) -> None:
    """The last active admin is never demoted (whichever path tries: lifecycle's rule)."""
    roles = {email: p.role for email, p in people.items() if p.active}
    if Role.ADMIN.value not in roles.values():
        return  # no admin yet (a first import from the command line): nothing to lose
    for row in rows:
        if row.email in roles or row.email not in people:
            roles[row.email] = row.role.value
    if Role.ADMIN.value not in roles.values():
        raise InvalidInput(
            "The roster would leave no active admin (it demotes every admin): keep one row "
            "with the role admin, or make someone else an admin first."
        )


# --- apply: a few bulk statements a table --------------------------------------------------------


@dataclass(frozen=True)
class RosterResult:
    summary: dict[str, Any]
    created_ids: list[int]  # the new accounts, to invite


def apply_roster(
    session: Session,
    plan: RosterPlan,
    *,
    actor: User | None,
    now: datetime,
    progress: Progress | None = None,
) -> RosterResult:
    """Write the plan: new teams, new accounts (invited: no password until they choose one),
    names, roles, moves and capacity; the sessions of people whose role changed end. Flushed,
    not committed: the caller commits once."""
    tick = progress or (lambda n: None)
    teams = _insert_teams(session, plan, now)
    ids, created = _insert_accounts(session, plan, now)
    tick(len(created))
    role_changed = _update_people(session, plan)
    _move_memberships(session, plan, ids, teams, now)
    _end_sessions(session, role_changed, now)
    _replace_holidays(session, plan, ids)
    tick(len(plan.rows) - len(created))
    summary = dict(plan.summary)
    audit.record(
        session,
        actor=actor,
        action="roster.import",
        target_type="roster",
        target_id=None,
        rows=summary["rows"],
        created=summary["new_people"],
        updated=summary["updated"],
        moved=summary["moved"],
        capacity_set=summary["capacity_set"],
        new_teams=len(summary["new_teams"]),
    )
    session.flush()
    return RosterResult(summary, created)


def _insert_teams(session: Session, plan: RosterPlan, now: datetime) -> dict[str, int]:
    teams = dict(plan.teams)
    names = list(plan.new_teams.values())
    if names:
        session.execute(Team.__table__.insert(), [{"name": n, "created_at": now} for n in names])
        for chunk in chunks(names):
            for name, team_id in session.execute(
                select(Team.name, Team.id).where(Team.name.in_(chunk))
            ):
                teams[tabular.fold(name)] = team_id
    return teams


def _insert_accounts(
    session: Session, plan: RosterPlan, now: datetime
) -> tuple[dict[str, int], list[int]]:
    new_rows = [r for r in plan.rows if r.email not in plan.people]
    accounts_ = [_new_account(r, now) for r in new_rows]  # made before the write lock is taken
    floor = session.scalar(select(func.max(User.id))) or 0
    for chunk in chunks(accounts_, IN_LIST * 10):
        session.execute(User.__table__.insert(), chunk)
    ids = {r.email: plan.people[r.email].id for r in plan.rows if r.email in plan.people}
    wanted = {r.email for r in new_rows}
    if wanted:  # one query: every account made since (others' too, on PostgreSQL: filtered)
        for email, user_id in session.execute(select(User.email, User.id).where(User.id > floor)):
            if email in wanted:
                ids[email] = user_id
    return ids, [ids[r.email] for r in new_rows]


def _update_people(session: Session, plan: RosterPlan) -> list[int]:
    """Names, roles and capacity of existing people; the ids whose role changed."""
    updates, role_changed = [], []
    for row in plan.rows:
        person = plan.people.get(row.email)
        if person is None:
            continue
        values: dict[str, Any] = {"id": person.id}
        if person.name != row.name or person.role != row.role.value:
            values.update(display_name=row.name, role=row.role.value)
        if person.role != row.role.value:
            role_changed.append(person.id)
        _capacity_values(row.capacity, values)
        if len(values) > 1:
            updates.append(values)
    for group in _same_keys(updates):
        session.execute(update(User), group)
    return role_changed


def _move_memberships(
    session: Session, plan: RosterPlan, ids: dict[str, int], teams: dict[str, int], now: datetime
) -> None:
    doomed: list[int] = []
    joins: list[dict[str, Any]] = []
    promotions: list[dict[str, Any]] = []
    for row in plan.rows:
        user_id, team_id = ids[row.email], teams[tabular.fold(row.team)]
        manager = row.role == Role.MANAGER
        current = None
        for membership, held_team, held_manager in plan.memberships.get(user_id, []):
            if held_team == team_id:
                current = (membership, held_manager)
            elif not (manager and held_manager):
                doomed.append(membership)
        if current is None:
            joins.append(
                {"team_id": team_id, "user_id": user_id, "is_manager": manager, "joined_at": now}
            )
        elif current[1] != manager:
            promotions.append({"id": current[0], "is_manager": manager})
    for chunk in chunks(doomed):
        session.execute(TeamMembership.__table__.delete().where(TeamMembership.id.in_(chunk)))
    for rows in chunks(joins, IN_LIST * 10):
        session.execute(TeamMembership.__table__.insert(), rows)
    if promotions:
        session.execute(update(TeamMembership), promotions)


def _end_sessions(session: Session, user_ids: list[int], now: datetime) -> None:
    """Their next page is loaded with their new rights."""
    for chunk in chunks(user_ids):
        session.execute(
            update(UserSession)
            .where(UserSession.user_id.in_(chunk), UserSession.ended_at.is_(None))
            .values(ended_at=now, ended_why="role")
        )


def _replace_holidays(session: Session, plan: RosterPlan, ids: dict[str, int]) -> None:
    away = [
        (ids[r.email], r.capacity.holidays) for r in plan.rows if r.capacity.holidays is not None
    ]
    for chunk in chunks(away):
        session.execute(
            UnavailablePeriod.__table__.delete().where(
                UnavailablePeriod.user_id.in_([uid for uid, _ in chunk])
            )
        )
        spans = [
            {"user_id": uid, "starts_on": first, "ends_on": last}
            for uid, holidays in chunk
            for first, last in holidays or ()
        ]
        if spans:
            session.execute(UnavailablePeriod.__table__.insert(), spans)


def _new_account(row: RosterRow, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": row.email,
        "display_name": row.name,
        "password_hash": INVITED + secrets.token_hex(12),
        "role": row.role.value,
        "active": True,
        "created_at": now,
        "availability_pct": 100,
        "learning_hours_per_week": None,
    }
    _capacity_values(row.capacity, values)
    return values


def _capacity_values(cells: CapacityCells, values: dict[str, Any]) -> None:
    if cells.availability_pct is not None:
        values["availability_pct"] = cells.availability_pct
    if cells.hours_per_week is not None:
        values["learning_hours_per_week"] = cells.hours_per_week[0]


def _same_keys(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return groups.values()


# --- all three at once: the command line and tests ---------------------------------------------


def import_roster(
    session: Session, text: bytes | str, *, actor: User | None, now: datetime | None = None
) -> RosterResult:
    """Check, plan and apply a roster in one go. Raises RowErrors (every problem, each as
    "column: message") or InvalidInput, with nothing written."""
    rows, problems = check_roster(text)
    if problems:
        raise RowErrors(
            [(p.line, f"{p.column}: {p.message}" if p.column else p.message) for p in problems]
        )
    plan = plan_roster(session, rows)
    return apply_roster(session, plan, actor=actor, now=now or datetime.now(UTC))


def is_invited(user: User) -> bool:
    """The account waits for its invitation to be used (it has no password yet)."""
    return user.password_hash.startswith(INVITED)
