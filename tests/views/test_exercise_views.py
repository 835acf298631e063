"""Exercises on the notebook, workshop, submission and home pages; "Show a hint"."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import AuthActions, Org, csrf_token
from tests.services.learning.test_exercises import attempt
from webapp.db import db as _db
from webapp.models import Submission
from webapp.services.learning import exercises

PANEL_RE = re.compile(r'<script type="application/json" id="exercise-panel">(.*?)</script>', re.S)


def notebook_url(nid: int) -> str:
    return f"/workshops/tiny/notebooks/{nid}"


def panel(client: FlaskClient, nid: int) -> list[dict]:
    html = client.get(notebook_url(nid)).get_data(as_text=True)
    match = PANEL_RE.search(html)
    assert match, "no exercise panel on the notebook page"
    return json.loads(match.group(1))


def ask_hint(
    client: FlaskClient, nid: int, grade_id: str = "impl_mean", *, token: str | None = None
):  # noqa: ANN201
    headers = {"Accept": "application/json"}
    if token is not False:
        headers["X-CSRFToken"] = token or csrf_token(client, notebook_url(nid))
    return client.post(f"{notebook_url(nid)}/exercises/{grade_id}/hint", headers=headers)


def submission_page(client: FlaskClient, org: Org, nid: int, passed: set[str]) -> str:
    """The page of a graded attempt by the engineer passing the ``passed`` test cells."""
    attempt(org.engineer, nid, "final", passed)
    _db.session.commit()
    sub_id = _db.session.scalar(select(Submission.id).where(Submission.user_id == org.engineer.id))
    return client.get(f"/submissions/{sub_id}").get_data(as_text=True)


def test_show_a_hint_reveals_the_next_one_as_sanitised_html_and_it_stays_on_reload(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    nid = catalog["tiny"]
    auth.login(org.engineer.email)
    before = {e["grade_id"]: e for e in panel(client, nid)}
    assert before["impl_mean"]["hints_total"] == 2 and before["impl_mean"]["hints"] == []
    assert before["impl_var"]["hints_total"] == 0
    response = ask_hint(client, nid)
    assert response.status_code == 200
    assert response.json == {
        "number": 1,
        "total": 2,
        "html": "<p>Python has <code>sum</code> and <code>len</code>.</p>\n",
    }
    second = ask_hint(client, nid).json
    assert second["number"] == 2 and "<strong>no loop</strong>" in second["html"]
    again = ask_hint(client, nid)
    assert again.status_code == 409 and "every hint" in again.json["message"]
    after = {e["grade_id"]: e for e in panel(client, nid)}
    assert len(after["impl_mean"]["hints"]) == 2


def test_the_student_download_carries_no_hints(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    auth.login(org.engineer.email)
    body = client.get(f"{notebook_url(catalog['tiny'])}/download").get_data(as_text=True)
    assert "Python has" not in body and "hints" not in body


def test_a_hint_without_the_csrf_token_is_refused(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    auth.login(org.engineer.email)
    assert ask_hint(client, catalog["tiny"], token=False).status_code == 400
    assert panel(client, catalog["tiny"])[0]["hints"] == []


def test_workshop_page_lists_exercises_with_state_and_hints_used(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    nid = catalog["tiny"]
    auth.login(org.engineer.email)
    ask_hint(client, nid)
    exercises.record_check(
        _db.session,
        user_id=org.engineer.id,
        notebook_id=nid,
        grade_id="impl_mean",
        passed=True,
        now=datetime.now(UTC),
    )
    _db.session.commit()
    html = client.get("/workshops/tiny").get_data(as_text=True)
    table = html.split('data-testid="exercises"', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tr>")[2:]
    assert "Means and variances" in rows[0] and "Passed in practice" in rows[0]
    assert "used 1 of 2 hints" in rows[0] and ">2<" in rows[0].replace(" ", "")
    assert "Not started" in rows[1]


def test_back_to_the_notebook_goes_to_the_first_failing_exercise(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    nid = catalog["tiny"]
    auth.login(org.engineer.email)
    html = submission_page(client, org, nid, {"test_mean"})
    var = exercises.exercise_states(_db.session, user_id=org.engineer.id, notebook_id=nid)[1]
    assert f'href="{notebook_url(nid)}#{var.anchor}">Back to the notebook' in html


def test_submission_page_shows_hints_used(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    nid = catalog["tiny"]
    auth.login(org.engineer.email)
    ask_hint(client, nid)
    html = submission_page(client, org, nid, {"test_mean", "test_var"})
    assert "Means and variances, used 1 of 2 hints." in html
    assert f'href="{notebook_url(nid)}">Back to the notebook' in html


def test_home_page_offers_the_exercise_to_continue(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    nid = catalog["tiny"]
    auth.login(org.engineer.email)
    assert "Nothing to continue" in client.get("/").get_data(as_text=True)
    attempt(org.engineer, nid, "final", {"test_var"})
    _db.session.commit()
    html = client.get("/").get_data(as_text=True)
    first = exercises.exercise_states(_db.session, user_id=org.engineer.id, notebook_id=nid)[0]
    assert f'href="{notebook_url(nid)}#{first.anchor}">Means and variances</a>' in html
