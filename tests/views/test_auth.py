"""Logging in and out, changing passwords, CSRF, rate limits, and safe redirects."""

from __future__ import annotations

import gc
import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, Org, app_config, csrf_token, post_form
from tests.factories import PASSWORD, make_user
from webapp import create_app
from webapp.auth.views import GENERIC_LOGIN_ERROR
from webapp.db import db as _db
from webapp.extensions import limiter
from webapp.services.people import passwords
from webapp.web.access import public


def test_login_with_any_case_of_email_lands_on_home(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    response = auth.login("EVE@Example.COM")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "My progress" in client.get("/").get_data(as_text=True)


def test_wrong_password_and_unknown_email_get_the_same_generic_error(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    wrong = auth.login("eve@example.com", "not-the-password").get_data(as_text=True)
    unknown = auth.login("nobody@example.com", "not-the-password").get_data(as_text=True)
    assert GENERIC_LOGIN_ERROR in wrong
    assert GENERIC_LOGIN_ERROR in unknown
    assert client.get("/").status_code == 302  # still logged out


def test_inactive_user_cannot_log_in(client: FlaskClient, auth: AuthActions, db: object) -> None:
    make_user(email="gone@example.com", active=False)
    _db.session.commit()
    assert GENERIC_LOGIN_ERROR in auth.login("gone@example.com").get_data(as_text=True)


def test_logout_is_a_post_and_ends_the_session(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login("eve@example.com")
    assert client.get("/logout").status_code == 405
    assert auth.logout().headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_post_without_csrf_token_is_refused_with_400(client: FlaskClient, org: Org) -> None:
    response = client.post("/login", data={"email": "eve@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # the login did not happen


def test_next_redirects_only_to_same_site_paths(client: FlaskClient, org: Org) -> None:
    for target, expected in [
        ("/teams/1", "/teams/1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ]:
        response = post_form(
            client, "/login", {"email": "eve@example.com", "password": PASSWORD, "next": target}
        )
        assert response.headers["Location"] == expected, target
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_anonymous_visit_redirects_to_login_with_next(client: FlaskClient, db: object) -> None:
    response = client.get("/admin/users?q=a")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/users?q%3Da"


def test_change_password_checks_current_and_policy(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login("eve@example.com")
    bad = post_form(
        client,
        "/account/password",
        {"current": "wrong-password", "new": "brand-new-pass", "confirm": "brand-new-pass"},
    )
    assert "current password is not correct" in bad.get_data(as_text=True)
    ok = post_form(
        client,
        "/account/password",
        {"current": PASSWORD, "new": "brand-new-pass", "confirm": "brand-new-pass"},
    )
    assert ok.status_code == 302
    _db.session.expire_all()
    assert passwords.verify_password(org.engineer.password_hash, "brand-new-pass")


def test_session_cookie_is_httponly_and_samesite_lax(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    response = auth.login("eve@example.com")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_ten_quick_wrong_logins_get_429(
    client: FlaskClient, org: Org, override_settings: Callable[..., None]
) -> None:
    override_settings(LOGIN_RATE_LIMIT="5 per minute")  # the suite's own limit is far higher
    limiter.reset()
    try:
        codes = [
            post_form(
                client, "/login", {"email": "eve@example.com", "password": "wrong-guess"}
            ).status_code
            for _ in range(10)
        ]
        assert codes[0] == 200
        assert codes[-1] == 429
        page = post_form(client, "/login", {"email": "eve@example.com", "password": PASSWORD})
        assert page.status_code == 429  # even the right password waits: no oracle while limited
        assert "Too many attempts" in page.get_data(as_text=True)
    finally:
        limiter.reset()


def test_security_headers_on_every_page(client: FlaskClient, db: object) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_load_assets_only_from_the_app(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login("ada@example.com")
    page = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for asset in (u for u in urls if u.endswith((".css", ".js"))):
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()
    assert "<script>" not in page  # no inline scripts


def test_unknown_route_gives_404_page_inside_the_layout(client: FlaskClient, db: object) -> None:
    response = client.get("/no/such/page")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "404" in body and 'id="main"' in body and "Skillforge" in body


def test_a_not_modified_static_file_is_closed_at_once(client: FlaskClient, db: object) -> None:
    first = client.get("/static/favicon.svg")
    last_modified = first.headers["Last-Modified"]
    first.close()
    again = client.get("/static/favicon.svg", headers={"If-Modified-Since": last_modified})
    assert again.status_code == 304
    del again
    gc.collect()  # a file handle left open would be reported now, failing this test


def test_a_crash_shows_the_500_page_inside_the_layout(app: Flask) -> None:
    crashing = create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], TESTING=False))

    @crashing.route("/boom")
    @public
    def boom() -> str:
        raise RuntimeError("a bug")

    response = crashing.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert 'id="main"' in body and "Something went wrong on our side" in body
    assert "a bug" not in body  # no internals for users
    with crashing.app_context():
        _db.engine.dispose()
