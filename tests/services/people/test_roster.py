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


def test_good_roster_creates_users_teams_and_managers(db: object) -> None:
    results = roster.import_roster(_db.session, GOOD, actor=None)
    assert [r.email for r in results] == ["ana@example.com", "ben@example.com"]
    assert all(r.created and r.initial_password for r in results)
    ben = _db.session.scalar(select(User).where(User.email == "ben@example.com"))
    assert ben is not None and ben.role == "manager"
    assert passwords.verify_password(ben.password_hash, results[1].initial_password or "")
    membership = _db.session.scalar(select(TeamMembership).where(TeamMembership.user_id == ben.id))
    assert membership is not None and membership.is_manager


def test_existing_users_are_updated_not_duplicated(db: object) -> None:
    make_user(email="ana@example.com", name="Old Name")
    results = roster.import_roster(_db.session, GOOD, actor=None)
    assert results[0].created is False and results[0].initial_password is None
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
    assert "not a valid email" in lines[4]
    assert "empty team" in lines[5]
    assert "Unknown role 'wizard'" in lines[6]
    assert "first on line 2" in lines[7]
    assert count(User) == 0 and count(Team) == 0


def test_missing_columns_are_named(db: object) -> None:
    with pytest.raises(InvalidInput, match="missing: team, role"):
        roster.parse_roster("email,name\na@example.com,A\n")


def test_header_only_is_an_error(db: object) -> None:
    with pytest.raises(InvalidInput, match="no rows"):
        roster.parse_roster("email,name,team,role\n")
