"""Headers every response carries (issue 13, item 6): browser features denied, HSTS and Secure
cookies over HTTPS, signed-in pages never cached, download names that cannot break the header."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.http import parse_options_header

from tests.conftest import AuthActions, Org, app_config
from tests.staffing_factories import make_project
from webapp import create_app
from webapp.db import db as _db
from webapp.web.downloads import attachment


def test_signed_in_pages_are_not_stored_and_public_ones_may_be(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    auth.login(org.engineer.email)
    home = client.get("/")
    assert home.headers["Cache-Control"] == "no-store"
    assert "camera=()" in home.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in home.headers  # plain HTTP here: HSTS would lie
    css = client.get("/notebook-highlight.css")
    assert "public" in css.headers["Cache-Control"]  # a view's own caching choice is kept


def test_over_https_cookies_are_secure_and_hsts_is_sent(app: Flask) -> None:
    https = create_app(
        app_config(app.config["SQLALCHEMY_DATABASE_URI"], PREFERRED_URL_SCHEME="https")
    )
    assert https.config["SESSION_COOKIE_SECURE"] is True
    response = https.test_client().get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "Secure" in cookie and "HttpOnly" in cookie
    with https.app_context():
        _db.engine.dispose()


def test_a_download_name_cannot_break_out_of_its_header(app: Flask) -> None:
    name = 'evil"; x=1\r\nSet-Cookie: a=b ü.csv'
    with app.test_request_context():
        response = attachment(app.response_class("x"), name)
    header = response.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header  # one header, no injected one
    value, options = parse_options_header(header)
    assert value == "attachment" and options["filename"] == name  # exact, via filename*
    assert 'filename="evil_; x=1__Set-Cookie: a=b _.csv"' in header  # the ASCII fallback


def test_csv_downloads_carry_an_rfc_6266_name(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    make_project(org.team)
    _db.session.commit()
    auth.login(org.manager.email)
    response = client.get("/staffing/gaps.csv")
    header = response.headers["Content-Disposition"]
    assert parse_options_header(header) == ("attachment", {"filename": "gaps.csv"})
    assert "filename*=UTF-8''gaps.csv" in header
