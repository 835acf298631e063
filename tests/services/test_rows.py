"""Query rows fill dataclasses by column name: a mismatch fails when the query is built."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from sqlalchemy import select

from tests.conftest import Org
from webapp.db import db as _db
from webapp.models import TeamMembership, User
from webapp.services.people.teams import Member, members
from webapp.services.rows import labelled, row_into, rows_into


class Named(NamedTuple):
    id: int
    email: str


def test_a_missing_field_is_refused_when_the_query_is_built() -> None:
    with pytest.raises(TypeError, match="missing email"):
        labelled(Named, id=User.id)


def test_a_column_naming_no_field_is_refused_when_the_query_is_built() -> None:
    with pytest.raises(TypeError, match="unknown mail"):
        labelled(Named, id=User.id, mail=User.email)


def test_a_class_without_named_fields_is_refused() -> None:
    with pytest.raises(TypeError, match="neither a dataclass nor a NamedTuple"):
        labelled(dict, id=User.id)


def test_a_reordered_select_still_fills_the_right_fields(org: Org) -> None:
    columns = labelled(
        Member,
        is_manager=TeamMembership.is_manager,
        role=User.role,
        email=User.email,
        name=User.display_name,
        id=User.id,
    )
    query = (
        select(*columns)
        .join(TeamMembership, TeamMembership.user_id == User.id)
        .where(TeamMembership.team_id == org.team.id)
        .order_by(User.id)
    )
    found = rows_into(Member, _db.session.execute(query))
    assert sorted(found, key=lambda m: m.id) == sorted(
        members(_db.session, org.team.id), key=lambda m: m.id
    )
    manager = next(m for m in found if m.id == org.manager.id)
    assert (manager.name, manager.email, manager.is_manager) == (
        "Mia Manager",
        "mia@example.com",
        True,
    )


def test_one_row_ignores_a_grouping_key_and_takes_given_fields(org: Org) -> None:
    query = select(User.display_name, *labelled(Named, omit=("email",), id=User.id)).where(
        User.id == org.admin.id
    )
    row = _db.session.execute(query).one()
    assert row_into(Named, row, email="given@example.com") == Named(
        org.admin.id, "given@example.com"
    )
