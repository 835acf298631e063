"""Roster import: all rows or none, with a reason for every bad row."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import make_user
from webapp.db import db as _db
from webapp.models import Team, TeamMembership, User
from webapp.services.errors import InvalidInput, RowErrors
from webapp.services.people import passwords, roster

GOOD = """email,name,team,role
ana@example.com,Ana Silva,Data Platform,engineer
ben@example.com,Ben Carter,Data Platform,manager
"""


def count(model: type) -> int:
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def test_good_roster_creates_invited_users_teams_and_managers(db: object) -> None:
    result = roster.import_roster(_db.session, GOOD, actor=None)
    people = {u.email: u for u in _db.session.scalars(select(User))}
    assert set(people) == {"ana@example.com", "ben@example.com"}
    assert sorted(result.created_ids) == sorted(u.id for u in people.values())
    ben = people["ben@example.com"]
    assert ben.role == "manager" and roster.is_invited(ben)
    assert not passwords.verify_password(ben.password_hash, "")  # no password until invited
    membership = _db.session.scalar(select(TeamMembership).where(TeamMembership.user_id == ben.id))
    assert membership is not None and membership.is_manager
    assert result.summary["new_people"] == 2 and result.summary["new_teams"] == ["Data Platform"]


def test_existing_users_are_updated_not_duplicated(db: object) -> None:
    make_user(email="ana@example.com", name="Old Name")
    result = roster.import_roster(_db.session, GOOD, actor=None)
    assert (result.summary["new_people"], result.summary["updated"]) == (1, 1)
    assert count(User) == 2
    ana = _db.session.scalar(select(User).where(User.email == "ana@example.com"))
    assert ana is not None and ana.display_name == "Ana Silva"


def test_one_bad_row_stores_nothing_and_names_every_bad_line(db: object) -> None:
    text = (
        GOOD + "not-an-email,X,Data Platform,engineer\ncat@example.com,Cat,,engineer\n"
        "dan@example.com,Dan,Ops,wizard\nana@example.com,Ana Again,Ops,engineer\n"
    )
    with pytest.raises(RowErrors) as caught:
        roster.import_roster(_db.session, text, actor=None)
    lines = dict(caught.value.errors)
    assert set(lines) == {4, 5, 6, 7}
    assert lines[4].startswith("email: ") and "not a valid email" in lines[4]
    assert lines[5] == "team: empty: every row needs one"
    assert lines[6].startswith("role: Unknown role 'wizard'")
    assert lines[7].startswith("email: ") and "first on line 2" in lines[7]
    assert count(User) == 0 and count(Team) == 0


def test_missing_columns_are_named(db: object) -> None:
    with pytest.raises(InvalidInput, match="missing: team, role"):
        roster.check_roster("email,name\na@example.com,A\n")


def test_header_only_is_an_error(db: object) -> None:
    with pytest.raises(InvalidInput, match="no rows"):
        roster.check_roster("email,name,team,role\n")
