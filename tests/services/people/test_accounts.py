"""Accounts: creation rules, authentication, and the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import make_team
from webapp.db import db as _db
from webapp.models import AuditEvent, TeamMembership
from webapp.services.errors import Conflict, InvalidInput
from webapp.services.people import accounts


def test_create_user_stores_lowercase_email_and_joins_team_as_manager(db: object) -> None:
    user = accounts.create_user(
        _db.session,
        email="  Lea.Ng@Example.com ",
        display_name="Lea Ng",
        password="long-enough-pw",
        role="manager",
        actor=None,
        team="Vision",
    )
    assert user.email == "lea.ng@example.com"
    membership = _db.session.scalar(select(TeamMembership).where(TeamMembership.user_id == user.id))
    assert membership is not None and membership.is_manager
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
    assert event is not None and event.detail["email"] == "lea.ng@example.com"


def test_email_is_unique_whatever_its_case(db: object) -> None:
    accounts.create_user(
        _db.session,
        email="a@example.com",
        display_name="A",
        password="long-enough-pw",
        role="engineer",
        actor=None,
    )
    with pytest.raises(Conflict, match="already exists"):
        accounts.create_user(
            _db.session,
            email="A@EXAMPLE.COM",
            display_name="A2",
            password="long-enough-pw",
            role="engineer",
            actor=None,
        )


@pytest.mark.parametrize(
    ("email", "password", "role", "message"),
    [
        ("not-an-email", "long-enough-pw", "engineer", "not a valid email"),
        ("b@example.com", "short", "engineer", "at least 12"),
        ("b@example.com", "123456789012", "engineer", "easy to guess|common|sequence"),
        ("b@example.com", "password1234", "engineer", "very common password"),
        ("b@example.com", "qwertyuiop[]", "engineer", "keyboard|easy to guess"),
        ("b@example.com", "long-enough-pw", "overlord", "Unknown role"),
    ],
)
def test_bad_user_input_is_refused_with_a_reason(
    db: object, email: str, password: str, role: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        accounts.create_user(
            _db.session, email=email, display_name="B", password=password, role=role, actor=None
        )


def test_the_database_itself_refuses_an_uppercase_email(db: object) -> None:
    from sqlalchemy.exc import IntegrityError

    from webapp.models import User

    _db.session.add(
        User(email="Upper@Example.com", display_name="U", password_hash="x", role="engineer")
    )
    with pytest.raises(IntegrityError):
        _db.session.flush()
    _db.session.rollback()


def test_authenticate_returns_user_only_for_right_password(db: object) -> None:
    accounts.create_user(
        _db.session,
        email="c@example.com",
        display_name="C",
        password="long-enough-pw",
        role="engineer",
        actor=None,
    )
    assert accounts.authenticate(_db.session, email="C@example.com", password="long-enough-pw")
    assert accounts.authenticate(_db.session, email="c@example.com", password="wrong-pass") is None
    assert (
        accounts.authenticate(_db.session, email="x@example.com", password="long-enough-pw") is None
    )


def test_join_team_is_idempotent(db: object) -> None:
    team = make_team("Ops")
    user = accounts.create_user(
        _db.session,
        email="d@example.com",
        display_name="D",
        password="long-enough-pw",
        role="engineer",
        actor=None,
    )
    accounts.join_team(_db.session, user=user, team=team, as_manager=False)
    _db.session.flush()
    accounts.join_team(_db.session, user=user, team=team, as_manager=False)
    _db.session.flush()
    count = len(
        list(_db.session.scalars(select(TeamMembership).where(TeamMembership.user_id == user.id)))
    )
    assert count == 1


def test_a_password_made_of_the_persons_own_email_is_refused(db: object) -> None:
    with pytest.raises(InvalidInput, match="several uncommon words"):
        accounts.create_user(
            _db.session,
            email="robin.hood@example.com",
            display_name="Robin Hood",
            password="robinhood1234",
            role="engineer",
            actor=None,
        )
