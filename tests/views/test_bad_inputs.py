"""Inputs that used to give a 500 (issue 13): each now gets a 4xx that says what to do, and
nothing is half-stored."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import AuthActions, Org, post_form
from tests.import_flow import import_all_the_way
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


def test_roster_fields_too_long_or_too_big_are_refused_in_words(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    auth.login(org.admin.email)
    users_before = _db.session.scalar(select(func.count()).select_from(User))
    long_team = "T" * 500
    page = import_all_the_way(
        client,
        app,
        "/admin/users/import",
        f"email,name,team,role\nnew@example.com,New Person,{long_team},engineer\n",
    )
    assert "team name is longer than 120 characters" in page
    big = "x" * 200_000
    page = import_all_the_way(
        client,
        app,
        "/admin/users/import",
        f"email,name,team,role\nbig@example.com,{big},Ops,engineer\n",
    )
    assert "longer than the" in page
    assert _db.session.scalar(select(func.count()).select_from(User)) == users_before
    assert _db.session.scalar(select(func.count()).where(Team.name == long_team)) == 0


def test_a_staffing_import_with_a_huge_field_is_refused_in_words(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    auth.login(org.manager.email)
    big = "x" * 200_000
    text = f"name,team,start_date,status,description\nP,Applied ML,2030-01-01,planned,{big}\n"
    page = import_all_the_way(client, app, "/staffing/import", text, kind="projects")
    assert "longer than the" in page
