"""Inputs that used to give a 500 (issue 13): each now gets a 4xx that says what to do, and
nothing is half-stored."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import AuthActions, Org, post_form
from webapp.db import db as _db
from webapp.models import Team, User

HUGE_ID = 2**63 + 5


def test_ids_beyond_64_bits_are_not_found(client: FlaskClient, auth: AuthActions, org: Org) -> None:
    auth.login(org.admin.email)
    for url in (
        f"/staffing/projects/{HUGE_ID}",
        f"/teams/{HUGE_ID}",
        f"/admin/users/{HUGE_ID}",
        f"/workshops/tiny/notebooks/{HUGE_ID}",
        f"/staffing/teams/{HUGE_ID}/plan",
    ):
        assert client.get(url).status_code == 404, url


def test_a_line_break_in_next_is_never_followed(client: FlaskClient, org: Org) -> None:
    response = post_form(
        client,
        "/login?next=/%0d%0aSet-Cookie:%20x=1",
        {"email": org.engineer.email, "password": "correct-horse-battery", "next": "/\r\nX: y"},
        token_from="/login",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def _roster(client: FlaskClient, text: str):  # noqa: ANN202
    return post_form(
        client,
        "/admin/users/import",
        {"roster": (io.BytesIO(text.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )


def test_roster_fields_too_long_or_too_big_are_refused_in_words(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.admin.email)
    users_before = _db.session.scalar(select(func.count()).select_from(User))
    long_team = "T" * 500
    response = _roster(
        client, f"email,name,team,role\nnew@example.com,New Person,{long_team},engineer\n"
    )
    assert response.status_code == 400
    assert "team name is longer than 120 characters" in response.get_data(as_text=True)
    big = "x" * 200_000
    response = _roster(client, f"email,name,team,role\nbig@example.com,{big},Ops,engineer\n")
    assert response.status_code == 400
    assert "longer than the" in response.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(User)) == users_before
    assert _db.session.scalar(select(func.count()).where(Team.name == long_team)) == 0


def test_a_staffing_import_with_a_huge_field_is_refused_in_words(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.manager.email)
    big = "x" * 200_000
    text = f"name,team,start_date,status,description\nP,Applied ML,2030-01-01,planned,{big}\n"
    response = post_form(
        client,
        "/staffing/import",
        {"kind": "projects", "file": (io.BytesIO(text.encode()), "projects.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400, response.status_code
    assert "longer than the" in response.get_data(as_text=True)
