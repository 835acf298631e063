"""Roster import: a CSV of (email, name, team, role), stored whole or not at all."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from webapp.db import Session
from webapp.models import Role, User
from webapp.services import audit
from webapp.services.errors import DomainError, InvalidInput, RowErrors
from webapp.services.people import accounts, passwords

COLUMNS = ("email", "name", "team", "role")


@dataclass(frozen=True)
class RosterRow:
    line: int
    email: str
    name: str
    team: str
    role: Role


@dataclass(frozen=True)
class ImportedUser:
    email: str
    created: bool
    initial_password: str | None  # shown once to the admin for new accounts


def parse_roster(text: str) -> list[RosterRow]:
    """Parse and check every row; raises RowErrors listing each bad line, or InvalidInput."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            f"The roster needs a header row with the columns {', '.join(COLUMNS)}; "
            f"missing: {', '.join(missing)}."
        )
    reader.fieldnames = header
    rows: list[RosterRow] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
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
    values = {c: (record.get(c) or "").strip() for c in COLUMNS}
    empty = [c for c in COLUMNS if not values[c]]
    if empty:
        raise InvalidInput(f"empty {', '.join(empty)}")
    email = accounts.normalise_email(values["email"])
    if email in seen:
        raise InvalidInput(f"{email} appears again (first on line {seen[email]})")
    seen[email] = line
    return RosterRow(
        line, email, values["name"], values["team"], accounts.parse_role(values["role"])
    )


def import_roster(session: Session, text: str, *, actor: User | None) -> list[ImportedUser]:
    """Create new users and update existing ones (name, role, team) from a roster CSV.

    Every row is checked before anything is written; the caller commits once. Raises RowErrors.
    """
    results = []
    for row in parse_roster(text):
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
            user.display_name, user.role = row.name, row.role.value
        team = accounts.get_or_create_team(session, row.team)
        accounts.join_team(session, user=user, team=team, as_manager=row.role == Role.MANAGER)
        results.append(ImportedUser(row.email, initial is not None, initial))
    created = sum(r.created for r in results)
    audit.record(
        session,
        actor=actor,
        action="roster.import",
        target_type="roster",
        target_id=None,
        rows=len(results),
        created=created,
    )
    session.flush()
    return results
