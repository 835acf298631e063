"""Server-side sessions and the user lifecycle (issue 13, item 1).

A copied cookie stops working after logout, a password change, a role change and a
deactivation; people see and end their own sessions; admins edit people, deactivate and
reactivate them, make one-time reset links, move them between teams and revoke any token; the
last active admin can lose the role by no path.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import PASSWORD, AuthActions, FreshContextClient, Org, csrf_token, post_form
from tests.import_flow import import_all_the_way
from tests.views.test_api import bearer
from webapp.db import db as _db
from webapp.models import AuditEvent, TeamMembership, User, UserSession

NEW_PASSWORD = "a much newer secret 42"


def browser_of(app: Flask) -> FlaskClient:
    """A new browser: its own cookies, each request in its own app context."""
    return FreshContextClient(app, app.response_class, use_cookies=True)


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of the client's session cookie (a stolen cookie)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = browser_of(app)
    thief.set_cookie("session", cookie.value)
    return thief


def signed_in(client: FlaskClient) -> bool:
    response = client.get("/")
    return response.status_code == 200


def log_in(app: Flask, email: str, password: str = PASSWORD) -> FlaskClient:
    browser = browser_of(app)
    token = csrf_token(browser, "/login")
    response = browser.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, f"{email} could not log in"
    return browser


def test_a_copied_cookie_fails_after_logout(app: Flask, org: Org) -> None:
    browser = log_in(app, org.engineer.email)
    thief = copy_of(app, browser)
    assert signed_in(thief)  # a cookie is a bearer credential until its session ends
    post_form(browser, "/logout", {}, token_from="/")
    assert not signed_in(thief)
    assert not signed_in(browser)
    row = _db.session.scalars(select(UserSession)).one()
    assert row.ended_why == "logout"


def test_a_password_change_ends_every_other_session_but_keeps_this_one(
    app: Flask, org: Org
) -> None:
    browser = log_in(app, org.engineer.email)
    thief = copy_of(app, log_in(app, org.engineer.email))  # a second browser's cookie
    response = post_form(
        browser,
        "/account/password",
        {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert not signed_in(thief)
    assert signed_in(browser)


def test_deactivation_ends_sessions_and_tokens_keeps_history_and_reactivation_lets_in(
    app: Flask, client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    engineer = log_in(app, org.engineer.email)
    thief = copy_of(app, engineer)
    headers = bearer(org.engineer)
    assert client.get("/api/teams", headers=headers).status_code in (200, 403)
    auth.login(org.admin.email)
    page = f"/admin/users/{org.engineer.id}"
    post_form(client, f"{page}/deactivate", {}, token_from=page)
    assert not signed_in(thief) and not signed_in(engineer)
    assert client.get("/api/teams", headers=headers).status_code == 401
    auth.logout()
    refused = browser_of(app)
    token = csrf_token(refused, "/login")
    answer = refused.post(
        "/login", data={"email": org.engineer.email, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 200 and "do not match an active account" in answer.get_data(
        as_text=True
    )
    event = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.deactivate")
    ).one()
    assert event.detail == {"sessions_ended": 1, "tokens_revoked": 1}
    assert _db.session.get(User, org.engineer.id) is not None  # history kept
    auth.login(org.admin.email)
    post_form(client, f"{page}/reactivate", {}, token_from=page)
    assert signed_in(log_in(app, org.engineer.email))


def test_a_role_change_ends_the_sessions_and_the_last_admin_keeps_the_role(
    app: Flask, client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    engineer = log_in(app, org.engineer.email)
    auth.login(org.admin.email)
    page = f"/admin/users/{org.engineer.id}"
    form = {"email": org.engineer.email, "display_name": "Eve Engineer", "role": "manager"}
    assert post_form(client, page, form).status_code == 302
    assert not signed_in(engineer)
    _db.session.expire_all()
    assert _db.session.get(User, org.engineer.id).role == "manager"  # type: ignore[union-attr]

    own = f"/admin/users/{org.admin.id}"
    mine = {"email": org.admin.email, "display_name": "Ada Admin", "role": "engineer"}
    html = post_form(client, own, mine).get_data(as_text=True)
    assert "Ada Admin is the last active admin: make someone else an admin first" in html
    html = post_form(client, f"{own}/deactivate", {}, token_from=own, follow_redirects=True)
    assert "is the last active admin" in html.get_data(as_text=True)
    _db.session.expire_all()
    admin = _db.session.get(User, org.admin.id)
    assert admin is not None and (admin.role, admin.active) == ("admin", True)
    assert signed_in(client)

    # With a second admin, the first may step down.
    promote = {"email": org.manager.email, "display_name": "Mia Manager", "role": "admin"}
    post_form(client, f"/admin/users/{org.manager.id}", promote)
    assert post_form(client, own, mine).status_code == 302


def test_a_roster_import_cannot_demote_the_last_admin(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    auth.login(org.admin.email)
    roster = f"email,name,team,role\n{org.admin.email},Ada Admin,Ops,engineer\n"
    page = import_all_the_way(client, app, "/admin/users/import", roster)
    assert "The roster would leave no active admin" in page
    _db.session.expire_all()
    assert _db.session.get(User, org.admin.id).role == "admin"  # type: ignore[union-attr]
    assert _db.session.scalar(select(func.count()).where(AuditEvent.action == "roster.import")) == 0


def test_people_see_and_end_their_own_sessions_and_sign_out_everywhere(
    app: Flask, org: Org
) -> None:
    laptop = log_in(app, org.engineer.email)
    phone = log_in(app, org.engineer.email)
    log_in(app, org.teammate.email)  # someone else's: never listed
    html = laptop.get("/account/sessions").get_data(as_text=True)
    assert html.count("Sign out<span") == 2 and "this browser" in html
    theirs = _db.session.scalars(
        select(UserSession.id).where(UserSession.user_id == org.teammate.id)
    ).one()
    post_form(laptop, f"/account/sessions/{theirs}/end", {}, token_from="/account/sessions")
    _db.session.expire_all()
    assert _db.session.get(UserSession, theirs).ended_at is None  # type: ignore[union-attr]
    phone_id = max(
        _db.session.scalars(select(UserSession.id).where(UserSession.user_id == org.engineer.id))
    )
    post_form(laptop, f"/account/sessions/{phone_id}/end", {}, token_from="/account/sessions")
    assert not signed_in(phone) and signed_in(laptop)
    phone = log_in(app, org.engineer.email)
    post_form(laptop, "/account/sessions/sign-out-everywhere", {}, token_from="/account/sessions")
    assert not signed_in(phone) and not signed_in(laptop)


def test_a_reset_link_works_once_ends_sessions_and_expires(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    org: Org,
    override_settings: Callable[..., None],
) -> None:
    engineer = log_in(app, org.engineer.email)
    auth.login(org.admin.email)
    page = f"/admin/users/{org.engineer.id}"
    html = post_form(client, f"{page}/reset-link", {}, token_from=page).get_data(as_text=True)
    link = html.split('data-testid="reset-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    path = "/reset/" + link.split("/reset/", 1)[1]
    auth.logout()
    stranger = browser_of(app)
    assert "For eve@example.com" in stranger.get(path).get_data(as_text=True)
    short = post_form(stranger, path, {"new": "short", "confirm": "short"})
    assert short.status_code == 200  # refused by the form: at least 12 characters
    done = post_form(stranger, path, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert not signed_in(engineer)  # a reset signs out everywhere
    assert signed_in(log_in(app, org.engineer.email, NEW_PASSWORD))
    again = stranger.get(path)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)
    assert "not valid" in stranger.get(path[:-3] + "xyz").get_data(as_text=True)

    auth.login(org.admin.email)
    html = post_form(client, f"{page}/reset-link", {}, token_from=page).get_data(as_text=True)
    link = html.split('data-testid="reset-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    override_settings(PASSWORD_RESET_MAX_AGE_S=-1)
    expired = stranger.get("/reset/" + link.split("/reset/", 1)[1])
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)


def test_admins_move_people_between_teams_and_revoke_any_token(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    headers = bearer(org.other_manager)
    auth.login(org.admin.email)
    page = f"/admin/users/{org.other_manager.id}"
    post_form(client, f"{page}/teams", {"team": "Applied ML", "as_manager": "y"}, token_from=page)
    membership = _db.session.scalars(
        select(TeamMembership).where(
            TeamMembership.user_id == org.other_manager.id, TeamMembership.team_id == org.team.id
        )
    ).one()
    assert membership.is_manager
    engineer_page = f"/admin/users/{org.engineer.id}"
    refused = post_form(
        client,
        f"{engineer_page}/teams",
        {"team": "Platform", "as_manager": "y"},
        token_from=engineer_page,
        follow_redirects=True,
    )
    assert "change their role to manager first" in refused.get_data(as_text=True)
    post_form(client, f"/admin/memberships/{membership.id}/remove", {}, token_from=page)
    gone = select(func.count()).where(TeamMembership.id == membership.id)
    assert _db.session.scalar(gone) == 0
    tokens = client.get("/admin/tokens").get_data(as_text=True)
    assert "Oli Other" in tokens
    token_id = int(tokens.split("/admin/tokens/")[1].split("/revoke")[0])
    post_form(client, f"/admin/tokens/{token_id}/revoke", {}, token_from="/admin/tokens")
    assert client.get("/api/teams", headers=headers).status_code == 401
    actions = set(_db.session.scalars(select(AuditEvent.action)))
    assert {"team.join", "team.leave", "api_token.revoke"} <= actions


def test_the_command_line_changes_roles_deactivates_and_makes_reset_links(
    app: Flask, org: Org
) -> None:
    runner = app.test_cli_runner()
    engineer = log_in(app, org.engineer.email)
    result = runner.invoke(args=["users", "deactivate", org.engineer.email])
    assert result.exit_code == 0, result.output
    assert not signed_in(engineer)
    assert runner.invoke(args=["users", "reactivate", org.engineer.email]).exit_code == 0
    last = runner.invoke(args=["users", "set-role", org.admin.email, "engineer"])
    assert last.exit_code != 0 and "last active admin" in last.output
    link = runner.invoke(
        args=["users", "reset-link", org.engineer.email, "--base-url", "https://sf.example"]
    )
    assert link.exit_code == 0 and link.output.startswith("https://sf.example/reset/")
    path = link.output.strip().removeprefix("https://sf.example")
    assert "For eve@example.com" in browser_of(app).get(path).get_data(as_text=True)
    missing = runner.invoke(args=["users", "deactivate", "nobody@example.com"])
    assert missing.exit_code != 0 and "No user has the email" in missing.output
