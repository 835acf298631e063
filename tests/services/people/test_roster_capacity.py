"""Roster import of capacity: availability, learning budget and holidays, all rows or none."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import make_user
from webapp.db import db as _db
from webapp.models import UnavailablePeriod, User
from webapp.services.errors import RowErrors
from webapp.services.people import capacity, roster

HEADER = "email,name,team,role,availability_pct,learning_hours_per_week,holidays\n"


def _person(email: str) -> User:
    user = _db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    _db.session.refresh(user)
    return user


def test_roster_sets_capacity_and_leaves_empty_cells_as_they_are(db: object) -> None:
    ben = make_user(email="ben@example.com", name="Ben Carter")
    ben.availability_pct, ben.learning_hours_per_week = 70, 6.0
    _db.session.add(
        UnavailablePeriod(user_id=ben.id, starts_on=date(2027, 1, 4), ends_on=date(2027, 1, 8))
    )
    _db.session.flush()
    text = HEADER + (
        "ana@example.com,Ana Silva,Data,engineer,80,2.5,2027-04-01 to 2027-04-09; 2027-08-02\n"
        "ben@example.com,Ben Carter,Data,engineer,,,\n"
        "cy@example.com,Cy Doe,Data,engineer,,,\n"
    )
    roster.import_roster(_db.session, text, actor=None)
    ana, ben, cy = (_person(f"{n}@example.com") for n in ("ana", "ben", "cy"))
    assert (ana.availability_pct, ana.learning_hours_per_week) == (80, 2.5)
    assert capacity.holidays_text(ana) == "2027-04-01 to 2027-04-09; 2027-08-02 to 2027-08-02"
    assert (ben.availability_pct, ben.learning_hours_per_week) == (70, 6.0)
    assert capacity.holidays_text(ben) == "2027-01-04 to 2027-01-08"
    assert (cy.availability_pct, cy.learning_hours_per_week, cy.unavailable) == (100, None, [])


def test_roster_resets_the_budget_and_clears_holidays_when_asked(db: object) -> None:
    ana = make_user(email="ana@example.com", name="Ana Silva")
    ana.learning_hours_per_week = 6.0
    _db.session.add(
        UnavailablePeriod(user_id=ana.id, starts_on=date(2027, 1, 4), ends_on=date(2027, 1, 8))
    )
    _db.session.flush()
    roster.import_roster(
        _db.session, HEADER + "ana@example.com,Ana Silva,Data,engineer,,default,none\n", actor=None
    )
    ana = _person("ana@example.com")
    assert (ana.learning_hours_per_week, ana.unavailable) == (None, [])


def test_roster_without_the_capacity_columns_still_imports(db: object) -> None:
    roster.import_roster(
        _db.session, "email,name,team,role\nana@example.com,Ana,Data,engineer\n", actor=None
    )
    assert _person("ana@example.com").availability_pct == 100


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("150,,", "line 3: availability_pct: Availability must be a whole number of percent"),
        (",lots,", "line 3: learning_hours_per_week: Learning hours per week must be a number"),
        (",,2027-04-09 to 2027-04-01", "line 3: holidays: Holiday “2027-04-09 to 2027-04-01”"),
    ],
)
def test_a_bad_capacity_cell_names_the_line_and_nothing_is_imported(
    db: object, cells: str, message: str
) -> None:
    text = HEADER + "ana@example.com,Ana Silva,Data,engineer,80,,\n"
    text += f"ben@example.com,Ben Carter,Data,engineer,{cells}\n"
    with pytest.raises(RowErrors) as caught:
        roster.import_roster(_db.session, text, actor=None)
    assert message in caught.value.message
    assert _db.session.scalar(select(User).where(User.email == "ana@example.com")) is None
