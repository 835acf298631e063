"""Roster files as people make them: Excel's encodings and delimiters, headers that repeat or
are unknown, moves between teams, team names written another way, and cells too long for the
database — each read right or refused with what to do, the same on SQLite and PostgreSQL, and
nothing stored from a refused file."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import make_team, make_user
from webapp.db import db as _db
from webapp.models import Team, TeamMembership, User
from webapp.services.errors import InvalidInput, RowErrors
from webapp.services.people import roster

HEADER = "email,name,team,role"


def users() -> dict[str, str]:
    return dict(_db.session.execute(select(User.email, User.display_name)).all())


def teams_of(email: str) -> set[tuple[str, bool]]:
    rows = _db.session.execute(
        select(Team.name, TeamMembership.is_manager)
        .join(TeamMembership, TeamMembership.team_id == Team.id)
        .join(User, User.id == TeamMembership.user_id)
        .where(User.email == email)
    )
    return {(name, manager) for name, manager in rows}


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"], ids=str
)
def test_names_survive_every_encoding_excel_writes(db: object, encoding: str) -> None:
    # Before: the upload was read as UTF-8 with replacement characters (Latin-1 names damaged)
    # and UTF-16 files were a 500.
    text = f"{HEADER}\r\njose@example.com,José Müller-Nuñez,Données,engineer\r\n"
    roster.import_roster(_db.session, text.encode(encoding), actor=None)
    assert users() == {"jose@example.com": "José Müller-Nuñez"}
    assert teams_of("jose@example.com") == {("Données", False)}


def test_semicolons_tabs_and_old_mac_line_endings_are_read(db: object) -> None:
    files = [
        b"email;name;team;role\nana@example.com;Ana;ML;engineer\n",
        b"email\tname\tteam\trole\nben@example.com\tBen\tML\tengineer\n",
        b"email,name,team,role\rcat@example.com,Cat,ML,engineer\r",
    ]
    for data in files:
        roster.import_roster(_db.session, data, actor=None)
    assert set(users()) == {"ana@example.com", "ben@example.com", "cat@example.com"}


def test_bytes_no_encoding_reads_are_refused_naming_the_byte(db: object) -> None:
    data = f"{HEADER}\nana@example.com,Ana,ML,engineer\n".encode() + b"\x81\x8d,x,y,z\n"
    with pytest.raises(InvalidInput, match=r"not text in UTF-8, UTF-16 or Windows-1252.*0x81"):
        roster.import_roster(_db.session, data, actor=None)
    assert users() == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("email,name,email,team,role\nx@example.com,X,y@example.com,ML,engineer\n", "twice"),
        ("email,name,team,role,salary\na@example.com,A,ML,engineer,10\n", "“salary”"),
        ("email,name,team,role,\na@example.com,A,ML,engineer,\n", "Column 5 of the header"),
        ("email,name,team,role\na@example.com,A,ML,engineer,extra\n", "more cells"),
        ("email,name,team,role\na@example.com,A\x00,ML,engineer\n", "Line 2 holds a NUL"),
    ],
    ids=["duplicated header", "unknown header", "unnamed column", "extra cell", "NUL byte"],
)
def test_headers_and_cells_that_would_import_the_wrong_thing_are_refused(
    db: object, text: str, message: str
) -> None:
    # Before: a duplicated `email` header silently imported the wrong column.
    with pytest.raises(InvalidInput, match=message):
        roster.import_roster(_db.session, text, actor=None)
    assert users() == {}


def test_cells_too_long_for_the_database_are_refused_on_every_database(db: object) -> None:
    # Before: stored on SQLite, a 500 on PostgreSQL.
    text = (
        f"{HEADER}\n"
        f"ana@example.com,{'A' * 121},ML,engineer\n"
        f"ben@example.com,Ben,{'T' * 121},engineer\n"
    )
    with pytest.raises(RowErrors) as refused:
        roster.import_roster(_db.session, text, actor=None)
    assert refused.value.errors == [
        (2, "name: the name is longer than 120 characters"),
        (3, "team: the team name is longer than 120 characters"),
    ]
    assert users() == {}


def test_team_names_match_whatever_their_case_and_spacing(db: object) -> None:
    make_team("Applied ML")
    text = (
        f"{HEADER}\n"
        "ana@example.com,Ana,applied  ml,engineer\n"
        "ben@example.com,Ben, APPLIED ML ,engineer\n"
    )
    roster.import_roster(_db.session, text, actor=None)
    assert _db.session.scalar(select(func.count(Team.id))) == 1
    assert teams_of("ana@example.com") == teams_of("ben@example.com") == {("Applied ML", False)}


def test_a_move_is_a_move_and_a_manager_keeps_the_other_teams_they_manage(db: object) -> None:
    old, other, new = make_team("Vision"), make_team("Speech"), make_team("Platform")
    make_user(email="eng@example.com", team=old)
    boss = make_user("manager", email="boss@example.com", manager_of=other, team=old)
    assert boss.id is not None
    text = (
        f"{HEADER}\neng@example.com,Eng,Platform,engineer\nboss@example.com,Boss,Platform,manager\n"
    )
    roster.import_roster(_db.session, text, actor=None)
    assert teams_of("eng@example.com") == {(new.name, False)}  # before: in Vision and Platform
    assert teams_of("boss@example.com") == {(other.name, True), (new.name, True)}
