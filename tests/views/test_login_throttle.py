"""Login back-off per account and per client (issue 13, item 2): guesses spread over many
addresses meet the account's delay, the real person's browser is not locked out, the right
password works from a throttled address once its delay has passed, and the client address is
the connection's unless a configured number of proxies is trusted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from tests.conftest import PASSWORD, FreshContextClient, Org, app_config, csrf_token, post_form
from webapp import create_app
from webapp.db import db as _db
from webapp.extensions import limiter
from webapp.models import ApiToken, LoginThrottle

SCOPED = {"scopes": ["skills"], "days": "30"}  # what the token form's defaults send


def attempt(browser: FlaskClient, email: str, password: str, address: str, **headers: str) -> int:
    token = csrf_token(browser, "/login")
    response = browser.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_overrides={"REMOTE_ADDR": address},
        headers=headers,
    )
    return response.status_code


def browser_of(app: Flask) -> FlaskClient:
    return FreshContextClient(app, app.response_class, use_cookies=True)


def test_guesses_over_six_addresses_meet_the_accounts_delay_but_not_the_owners_browser(
    app: Flask, org: Org, override_settings: Callable[..., None]
) -> None:
    override_settings(LOGIN_BACKOFF_BASE_S=600)  # a long first delay: no race with the clock
    owner = browser_of(app)
    assert attempt(owner, org.engineer.email, PASSWORD, "10.9.9.9") == 302  # logged in before
    post_logout(owner)
    guesser = browser_of(app)
    codes = [
        attempt(guesser, org.engineer.email, f"guess-{n}", f"10.0.0.{n % 6}") for n in range(24)
    ]
    assert codes[:6] == [200] * 6  # five free failures, the sixth starts the delay
    assert codes[6:] == [429] * 18  # none of the other 18 guesses is even checked
    assert attempt(browser_of(app), org.engineer.email, PASSWORD, "10.0.0.7") == 429
    assert attempt(owner, org.engineer.email, PASSWORD, "10.9.9.9") == 302


def test_the_right_password_works_from_a_throttled_address_once_its_delay_has_passed(
    app: Flask, org: Org, override_settings: Callable[..., None]
) -> None:
    override_settings(LOGIN_BACKOFF_BASE_S=600)
    browser = browser_of(app)
    for n in range(6):
        assert attempt(browser, org.engineer.email, f"wrong-{n}", "10.1.1.1") == 200
    held = browser.post(
        "/login",
        data={"email": org.engineer.email, "password": PASSWORD, "csrf_token": csrf_token(browser)},
        environ_overrides={"REMOTE_ADDR": "10.1.1.1"},
    )
    assert held.status_code == 429
    assert "wait 600 seconds, then try again" in held.get_data(as_text=True)
    past = datetime.now(UTC) - timedelta(seconds=1)
    _db.session.execute(update(LoginThrottle).values(blocked_until=past))  # the delay passes
    _db.session.commit()
    assert attempt(browser, org.engineer.email, PASSWORD, "10.1.1.1") == 302
    assert _db.session.scalars(select(LoginThrottle.key)).all() == []  # success forgets


def test_forwarded_addresses_count_only_behind_trusted_proxies(
    app: Flask, org: Org, override_settings: Callable[..., None]
) -> None:
    direct = browser_of(app)
    for n in range(3):
        attempt(direct, org.engineer.email, "nope", "10.2.2.2", **{"X-Forwarded-For": f"1.1.1.{n}"})
    keys = set(_db.session.scalars(select(LoginThrottle.key)))
    assert keys == {"client:10.2.2.2", f"account:{org.engineer.email}"}  # the header is ignored

    proxied_app = create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=1))
    proxied = browser_of(proxied_app)
    attempt(proxied, org.teammate.email, "nope", "10.3.3.3", **{"X-Forwarded-For": "203.0.113.5"})
    assert "client:203.0.113.5" in set(_db.session.scalars(select(LoginThrottle.key)))
    with proxied_app.app_context():
        _db.engine.dispose()


def post_logout(browser: FlaskClient) -> None:
    browser.post("/logout", data={"csrf_token": csrf_token(browser, "/")})


def test_token_creation_is_rate_limited_per_user_with_when_to_retry(
    client: FlaskClient, org: Org, override_settings: Callable[..., None]
) -> None:
    override_settings(TOKEN_RATE_LIMIT="2 per hour")
    limiter.reset()
    try:
        token = csrf_token(client, "/login")
        client.post(
            "/login", data={"email": org.engineer.email, "password": PASSWORD, "csrf_token": token}
        )
        made = [
            post_form(client, "/account/api-tokens/", {"name": f"t{n}", **SCOPED}).status_code
            for n in range(3)
        ]
        assert made[:2] == [200, 200] and made[2] == 429
        page = post_form(client, "/account/api-tokens/", {"name": "t9", **SCOPED})
        html = page.get_data(as_text=True)
        assert "You reached the limit of 2 per 1 hour for this. Wait" in html
        assert "then try again; nothing from the refused request was kept" in html
        assert _db.session.scalar(select(func.count()).select_from(ApiToken)) == 2
    finally:
        limiter.reset()
