"""Admin pages: importing a roster from the browser is all or nothing."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import AuthActions, Org, csrf_token
from webapp.db import db as _db
from webapp.models import User


def upload_roster(client: FlaskClient, text: str):  # noqa: ANN201
    token = csrf_token(client, "/admin/users/import")
    return client.post(
        "/admin/users/import",
        data={"csrf_token": token, "roster": (io.BytesIO(text.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )


def test_a_bad_row_lists_its_line_and_stores_nothing(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.admin.email)
    before = _db.session.scalar(select(func.count(User.id)))
    response = upload_roster(
        client, "email,name,team,role\nnew@example.com,New,Ops,engineer\nbad,Bad,Ops,engineer\n"
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nothing was imported" in body and "not a valid email" in body
    assert _db.session.scalar(select(func.count(User.id))) == before


def test_a_good_roster_shows_each_new_initial_password_once(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.admin.email)
    response = upload_roster(client, "email,name,team,role\nnew@example.com,New,Ops,engineer\n")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Imported 1 row." in body and "new@example.com" in body and "created" in body
    assert _db.session.scalar(select(User).where(User.email == "new@example.com")) is not None
