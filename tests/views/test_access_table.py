"""Every route, visited as each kind of user, answers as the access table says.

A route missing from the table fails the test: adding a page means deciding who may see it.
Columns: anonymous, engineer (member of the team), manager of another team, manager of the team,
admin. ``LOGIN`` means a redirect to the login page.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, Org, csrf_token

LOGIN = "login"
ALL = (LOGIN, 200, 200, 200, 200)
ADMIN_ONLY = (LOGIN, 403, 403, 403, 200)
TEAM_MANAGERS = (LOGIN, 403, 403, 200, 200)
PUBLIC = (200, 200, 200, 200, 200)

URL = Callable[[Org], str]
# endpoint -> (method, url builder, expected answers)
TABLE: dict[str, tuple[str, URL, tuple[object, ...]]] = {
    "auth.login": ("GET", lambda o: "/login", PUBLIC),
    "auth.logout": ("POST", lambda o: "/logout", (LOGIN, 302, 302, 302, 302)),
    "auth.change_password": ("GET", lambda o: "/account/password", ALL),
    "main.home": ("GET", lambda o: "/", ALL),
    "main.health": ("GET", lambda o: "/healthz", PUBLIC),
    "teams.show": ("GET", lambda o: f"/teams/{o.team.id}", TEAM_MANAGERS),
    "admin.users": ("GET", lambda o: "/admin/users", ADMIN_ONLY),
    "admin.new_user": ("GET", lambda o: "/admin/users/new", ADMIN_ONLY),
    "admin.import_roster": ("GET", lambda o: "/admin/users/import", ADMIN_ONLY),
    "admin.audit_log": ("GET", lambda o: "/admin/audit", ADMIN_ONLY),
}
VISITORS = ("anonymous", "engineer", "other_manager", "manager", "admin")


def test_every_route_is_in_the_access_table(app: Flask) -> None:
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if not r.endpoint.endswith("static")}
    missing = endpoints - TABLE.keys()
    assert not missing, f"routes without an access rule in the table: {sorted(missing)}"
    assert not TABLE.keys() - endpoints, "the table names routes that no longer exist"


@pytest.mark.parametrize("endpoint", sorted(TABLE))
def test_route_answers_each_visitor_as_the_table_says(
    endpoint: str, client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    method, url_for_org, expected = TABLE[endpoint]
    for visitor, want in zip(VISITORS, expected, strict=True):
        if visitor != "anonymous":
            auth.login(getattr(org, visitor).email)
        url = url_for_org(org)
        if method == "POST":
            response = client.post(url, data={"csrf_token": csrf_token(client, "/login")})
        else:
            response = client.get(url)
        if want == LOGIN:
            assert response.status_code == 302, (visitor, url)
            assert response.headers["Location"].startswith("/login"), (visitor, url)
        else:
            assert response.status_code == want, (visitor, url, response.status_code)
        if visitor != "anonymous":
            client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
