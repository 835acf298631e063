"""Every API answer a manager can get holds what the matching page shows them, and never a score.

Each API endpoint is compared with the page (or the page's CSV download, the same table as text)
that shows a manager the same data. An API route missing from ``PAGES`` fails the test: adding an
endpoint means saying which page it answers like.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, Org
from tests.staffing_factories import (
    give_level,
    make_levels,
    make_project,
    make_skill,
    make_workshop,
    solved_plan,
)
from tests.views.test_api import bearer
from webapp.db import db as _db
from webapp.models import ProjectAssignment, WorkshopProgress

SCORES = (0.87, 0.42)  # the engineer's best scores: never in a manager's answer


def numbers(value: object) -> list[float]:
    """Every number anywhere in a JSON answer."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers(v)]
    return [float(value)] if isinstance(value, int | float) and not isinstance(value, bool) else []


@dataclass
class Scene:
    org: Org
    project_id: int


@pytest.fixture()
def scene(org: Org) -> Scene:
    """Levels, one passed and one started workshop with scores, a project with a lent engineer."""
    make_levels()
    ml, data = make_skill("ml", "Modelling"), make_skill("data", "Data quality")
    give_level(org.engineer, ml, 3)
    give_level(org.teammate, ml, 2)
    give_level(org.other_engineer, ml, 5)
    basics = make_workshop("ml-basics", ml, 2, hours=3)
    advanced = make_workshop("ml-advanced", ml, 4, hours=200)
    now = datetime.now(UTC)
    _db.session.add_all(
        [
            WorkshopProgress(
                user_id=org.engineer.id,
                workshop_id=basics.id,
                attempts=2,
                best_score=SCORES[0],
                passed_at=now - timedelta(days=3),
            ),
            WorkshopProgress(
                user_id=org.engineer.id, workshop_id=advanced.id, attempts=3, best_score=SCORES[1]
            ),
        ]
    )
    project = make_project(org.team, needs=((ml, 3, 2), (data, 2, 1)), people=(org.engineer,))
    _db.session.add(ProjectAssignment(project_id=project.id, user_id=org.other_engineer.id))
    _db.session.commit()  # an admin lent Pat from Platform to the project
    solved_plan(org.team)
    return Scene(org, project.id)


def csv_rows(client: FlaskClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    return list(csv.DictReader(response.get_data(as_text=True).removeprefix("\ufeff").splitlines()))


def page_items(client: FlaskClient, url: str, testid: str) -> list[str]:
    """The text of each item of a list on a page, whitespace collapsed."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(rf'<ul data-testid="{testid}">(.*?)</ul>', html, re.S)
    items = re.findall(r"<li>(.*?)</li>", match.group(1), re.S) if match else []
    return [" ".join(re.sub(r"<[^>]+>", "", i).split()) for i in items]


def keys(body: Any) -> set[str]:
    if isinstance(body, dict):
        return set(body) | {k for v in body.values() for k in keys(v)}
    if isinstance(body, list):
        return {k for v in body for k in keys(v)}
    return set()


# --- each endpoint against its page ------------------------------------------------------------


def same_teams(client: FlaskClient, s: Scene, body: Any) -> None:
    page = csv_rows(client, "/teams/export.csv")
    assert [(t["name"], t["engineers"]) for t in body["teams"]] == [
        (r["team"], int(r["engineers"])) for r in page
    ]


def same_matrix(client: FlaskClient, s: Scene, body: Any) -> None:
    code = {k["name"]: k["code"] for k in body["skills"]}
    page = {}
    for row in csv_rows(client, f"/teams/{s.org.team.id}/matrix/export.csv"):
        name = row.pop("engineer")
        page[name] = {code[k]: (int(v.rstrip("v")), v.endswith("v")) for k, v in row.items() if v}
    assert {
        e["name"]: {c: (lv, c in e["verified"]) for c, lv in e["levels"].items()}
        for e in body["engineers"]
    } == page


def _gaps(body: Any) -> list[tuple[object, ...]]:
    return [
        (g["project"], g["skill"], g["qualified"], g["missing"], g["level_shortfall"])
        + (g["not_counted"],)
        for g in body["requirements"]
    ]


def _gap_rows(rows: list[dict[str, str]]) -> list[tuple[object, ...]]:
    return [
        (r["project"], r["skill"], int(r["qualified"]), int(r["missing"]))
        + (int(r["level_shortfall"]), int(r["people_not_counted"]))
        for r in rows
    ]


def same_all_gaps(client: FlaskClient, s: Scene, body: Any) -> None:
    assert _gaps(body) == _gap_rows(csv_rows(client, "/staffing/gaps.csv"))


def same_project_gaps(client: FlaskClient, s: Scene, body: Any) -> None:
    page = csv_rows(client, f"/staffing/projects/{s.project_id}/gaps.csv")
    assert _gaps(body) == _gap_rows(page)
    # Pat (level 5, another team) is named on the page but counted nowhere
    assert ("Churn model", "Modelling", 1, 1, 3, 1) in _gaps(body)


def same_plan(client: FlaskClient, s: Scene, body: Any) -> None:
    page = csv_rows(client, f"/staffing/teams/{s.org.team.id}/plan.csv")
    assert body["explanations"] and body["unfilled_explanations"]
    assert body["explanations"] + body["unfilled_explanations"] == [r["explanation"] for r in page]
    impacts = page_items(client, f"/staffing/teams/{s.org.team.id}/plan", "plan-impacts")
    assert [f"{i['text']}." for i in body["workshop_impact"]] == impacts


def same_progress(client: FlaskClient, s: Scene, body: Any) -> None:
    base = f"/engineers/{s.org.engineer.id}/skills/export.csv"
    assert [
        (k["skill"], k["level"], k["claimed_level"], k["verified_level"], k["source"])
        + (k["recorded_at"][:10], round(k["confidence"], 6), k["due_for_reverification"])
        for k in body["skills"]
    ] == [
        (r["skill"], int(r["level"]), int(r["claimed_level"] or 0) or None)
        + (int(r["verified_level"] or 0) or None, r["source"], r["recorded_at"])
        + (round(float(r["confidence"]), 6), r["due_for_reverification"] == "yes")
        for r in csv_rows(client, base)
    ]
    assert [(h["skill"], h["level"], h["source"], h["note"]) for h in body["history"]] == [
        (r["skill"], int(r["level"]), r["source"], r["note"])
        for r in csv_rows(client, f"{base}?table=history")
    ]
    assert [(w["title"], w["state"], w["passed_at"][:10]) for w in body["workshops"]] == [
        (r["workshop"], "passed", r["passed_at"])
        for r in csv_rows(client, f"{base}?table=workshops")
    ]
    assert [w["title"] for w in body["workshops"]] == ["Ml Basics"]  # not the one in progress


Compare = Callable[[FlaskClient, Scene, Any], None]
PAGES: dict[str, tuple[Callable[[Scene], str], Compare]] = {
    "api.teams": (lambda s: "/api/teams", same_teams),
    "api.team_matrix": (lambda s: f"/api/teams/{s.org.team.id}/matrix", same_matrix),
    "api.all_gaps": (lambda s: "/api/projects/gaps", same_all_gaps),
    "api.project_gaps": (lambda s: f"/api/projects/{s.project_id}/gaps", same_project_gaps),
    "api.team_plan": (lambda s: f"/api/teams/{s.org.team.id}/plan", same_plan),
    "api.engineer_progress": (
        lambda s: f"/api/engineers/{s.org.engineer.id}/progress",
        same_progress,
    ),
}


def test_every_api_endpoint_is_compared_with_a_page(app: Flask) -> None:
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert endpoints - {"api.openapi"} == set(PAGES)


@pytest.mark.parametrize("endpoint", sorted(PAGES))
def test_a_manager_gets_from_the_api_what_the_page_shows_and_no_score(
    endpoint: str, client: FlaskClient, auth: AuthActions, scene: Scene
) -> None:
    url, same_as_page = PAGES[endpoint]
    response = client.get(url(scene), headers=bearer(scene.org.manager))
    assert response.status_code == 200
    body = response.json
    assert not {k for k in keys(body) if "score" in k or "attempt" in k}
    assert not set(numbers(body)) & set(SCORES)  # as values (a solve time may print "0.42")
    auth.login(scene.org.manager.email)
    same_as_page(client, scene, body)


def test_the_engineer_and_admins_still_read_scores_and_attempts(
    client: FlaskClient, scene: Scene
) -> None:
    url = f"/api/engineers/{scene.org.engineer.id}/progress"
    for reader in (scene.org.engineer, scene.org.admin):
        workshops = client.get(url, headers=bearer(reader)).json["workshops"]
        assert sorted((w["state"], w["best_score"], w["attempts"]) for w in workshops) == [
            ("in progress", SCORES[1], 3),
            ("passed", SCORES[0], 2),
        ]


def test_the_manager_page_and_the_engineers_preview_show_passes_and_no_score(
    client: FlaskClient, auth: AuthActions, scene: Scene
) -> None:
    tables = []
    for who, url in (
        (scene.org.manager, f"/engineers/{scene.org.engineer.id}/skills"),
        (scene.org.engineer, "/skills/manager-view"),
    ):
        auth.login(who.email)
        html = client.get(url).get_data(as_text=True)
        match = re.search(r'<table[^>]*data-testid="workshops-passed".*?</table>', html, re.S)
        assert match, url
        tables.append(match.group(0).split("</caption>")[1])  # the CSV links differ
        assert "Ml Advanced" not in html, url  # a started, unpassed workshop: its score's page
        # the score 0.87 as a reader would see it (ids such as value="287" are not scores)
        assert not re.search(r"(?<![\w.])(0\.87|87 ?%)", html), url
        auth.logout()
    assert tables[0] == tables[1] and "Ml Basics" in tables[0]
