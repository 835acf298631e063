"""The JSON API: bearer tokens only, the pages' authorisation rules, JSON errors, OpenAPI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, Org, post_form
from tests.staffing_factories import give_level, make_project, make_skill, solved_plan
from webapp.db import db as _db
from webapp.models import User
from webapp.services.errors import InvalidInput
from webapp.services.people import api_tokens


def bearer(user: User) -> dict[str, str]:
    secret = api_tokens.create_token(_db.session, actor=user, name="test").secret
    _db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture()
def project(org: Org) -> int:
    skill = make_skill("ml", "Modelling")
    give_level(org.engineer, skill, 4)
    project = make_project(org.team, needs=((skill, 3, 2),), people=(org.engineer,))
    _db.session.commit()
    return project.id


def test_without_a_token_the_api_answers_401_in_json(client: FlaskClient, org: Org) -> None:
    response = client.get("/api/projects/gaps")
    assert response.status_code == 401
    assert response.json is not None and response.json["status"] == 401


def test_a_browser_session_is_not_an_api_credential(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.admin.email)
    assert client.get("/api/projects/gaps").status_code == 401


def test_manager_reads_gaps_of_their_projects_only(
    client: FlaskClient, org: Org, project: int
) -> None:
    mine = client.get(f"/api/projects/{project}/gaps", headers=bearer(org.manager))
    assert mine.status_code == 200
    [req] = mine.json["requirements"]
    assert (req["skill"], req["qualified"], req["missing"]) == ("Modelling", 1, 1)
    other = client.get(f"/api/projects/{project}/gaps", headers=bearer(org.other_manager))
    assert other.status_code == 403
    listed = client.get("/api/projects/gaps", headers=bearer(org.other_manager))
    assert listed.json == {"requirements": []}


def test_engineers_read_their_own_progress_but_no_team_data(
    client: FlaskClient, org: Org, project: int
) -> None:
    headers = bearer(org.engineer)
    own = client.get(f"/api/engineers/{org.engineer.id}/progress", headers=headers)
    assert own.status_code == 200 and own.json["skills"][0]["level"] == 4
    assert (
        client.get(f"/api/engineers/{org.teammate.id}/progress", headers=headers).status_code == 403
    )
    assert client.get(f"/api/teams/{org.team.id}/matrix", headers=headers).status_code == 403
    assert client.get("/api/projects/gaps", headers=headers).status_code == 403


def test_team_matrix_and_plan_follow_team_management(
    client: FlaskClient, org: Org, project: int
) -> None:
    matrix = client.get(f"/api/teams/{org.team.id}/matrix", headers=bearer(org.manager))
    assert matrix.status_code == 200
    levels = {e["name"]: e["levels"] for e in matrix.json["engineers"]}
    assert levels["Eve Engineer"] == {"ml": 4}
    none_yet = client.get(f"/api/teams/{org.team.id}/plan", headers=bearer(org.admin))
    assert none_yet.status_code == 404  # the API never solves: a worker does
    run = solved_plan(org.team)
    plan = client.get(f"/api/teams/{org.team.id}/plan", headers=bearer(org.admin))
    assert plan.status_code == 200
    assert (plan.json["plan_id"], plan.json["current"]) == (run.id, True)
    assert {
        "objective",
        "gap",
        "training_hours",
        "unfilled_slots",
        "assignments",
        "training",
    } <= set(plan.json)
    assert (
        client.get(f"/api/teams/{org.team.id}/plan", headers=bearer(org.other_manager)).status_code
        == 403
    )


def test_revoked_token_stops_working_at_once(client: FlaskClient, org: Org) -> None:
    created = api_tokens.create_token(_db.session, actor=org.admin, name="bi")
    _db.session.commit()
    headers = {"Authorization": f"Bearer {created.secret}"}
    assert client.get("/api/teams", headers=headers).status_code == 200
    api_tokens.revoke_token(_db.session, created.token.id, actor=org.admin)
    _db.session.commit()
    assert client.get("/api/teams", headers=headers).status_code == 401


def test_token_page_shows_a_new_token_once_and_revokes_it(
    app: Flask, client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.engineer.email)
    form = {"name": "Power BI", "scopes": ["skills"], "days": "30"}
    page = post_form(client, "/account/api-tokens/", form).get_data(as_text=True)
    secret = page.split('class="token-secret">')[1].split("<")[0]
    assert secret.startswith("sf_")
    assert secret not in client.get("/account/api-tokens/").get_data(as_text=True)
    [token] = api_tokens.list_tokens(_db.session, org.engineer.id)
    tool = type(client)(app, app.response_class)  # a BI tool: no session, only the token
    url = f"/api/engineers/{org.engineer.id}/progress"
    headers = {"Authorization": f"Bearer {secret}"}
    assert tool.get(url, headers=headers).status_code == 200
    post_form(
        client, f"/account/api-tokens/{token.id}/revoke", {}, token_from="/account/api-tokens/"
    )
    assert tool.get(url, headers=headers).status_code == 401


def test_openapi_document_describes_every_api_route(client: FlaskClient, app: object) -> None:
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    rules = {
        r.rule.replace("<int:", "{").replace(">", "}")
        for r in app.url_map.iter_rules()  # type: ignore[attr-defined]
        if r.endpoint.startswith("api.")
    }
    assert rules == set(doc["paths"])


def test_a_token_reads_only_its_scopes_and_stops_when_it_expires(
    client: FlaskClient, org: Org
) -> None:
    now = datetime.now(UTC)
    made = api_tokens.create_token(
        _db.session, actor=org.manager, name="gaps only", scopes=["staffing"], days=7, now=now
    )
    _db.session.commit()
    headers = {"Authorization": f"Bearer {made.secret}"}
    assert client.get("/api/projects/gaps", headers=headers).status_code == 200
    matrix = client.get(f"/api/teams/{org.team.id}/matrix", headers=headers)
    assert matrix.status_code == 403
    assert "create a token with the “skills” scope" in matrix.json["message"]
    assert made.token.expires_at == now + timedelta(days=7)
    made.token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    _db.session.commit()
    assert client.get("/api/projects/gaps", headers=headers).status_code == 401


def test_a_token_needs_a_known_scope_and_lifetime(org: Org) -> None:
    with pytest.raises(InvalidInput, match="Choose what the token may read"):
        api_tokens.create_token(_db.session, actor=org.manager, name="x", scopes=["payroll"])
    with pytest.raises(InvalidInput, match="Choose how long the token works: 7 days, 30 days"):
        api_tokens.create_token(_db.session, actor=org.manager, name="x", days=10000)
