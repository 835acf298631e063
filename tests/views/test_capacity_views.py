"""Capacity on the pages: the project page shows the rules the assignments break, the gap
figures count each person once, and a person's manager edits their capacity."""

from __future__ import annotations

import html as html_lib

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from tests.conftest import AuthActions, Org, post_form
from webapp.db import db as _db
from webapp.models import AuditEvent, Project, User
from webapp.seed import demo
from webapp.services.people import capacity


def _page(client: FlaskClient, name: str) -> str:
    project = _db.session.scalars(select(Project).where(Project.name == name)).one()
    response = client.get(f"/staffing/projects/{project.id}")
    assert response.status_code == 200
    return html_lib.unescape(response.get_data(as_text=True))


def test_demo_project_page_lists_the_capacity_violations(
    client: FlaskClient, auth: AuthActions, runner: FlaskCliRunner
) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0
    auth.login(demo.email_for("David Kim"), demo.DEMO_PASSWORD)
    page = _page(client, "Churn model")
    assert 'data-testid="violations"' in page
    assert (
        "Farah Haddad is qualified for 2 roles on Churn model (Model validation and overfitting "
        "and Model interpretability) but holds one role per project: counted toward Model "
        "validation and overfitting only." in page
    )
    assert (
        "Hana Sato counts toward Data quality, which asks 100 % of their time, but is assigned "
        "50 % to Churn model: raise the assignment to 100 %." in page
    )
    # Farah counts once: toward Model validation, not also toward Model interpretability.
    assert "Farah Haddad (4, qualified, counted for Model validation and overfitting)" in page


def _capacity(org: Org) -> tuple[int, str, str]:
    person = _db.session.get(User, org.engineer.id)
    assert person is not None
    _db.session.refresh(person)
    hours = "" if person.learning_hours_per_week is None else f"{person.learning_hours_per_week:g}"
    return person.availability_pct, hours, capacity.holidays_text(person)


def test_manager_sets_availability_learning_time_and_holidays(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.manager.email)
    url = f"/staffing/people/{org.engineer.id}/capacity"
    engineer_page = client.get(f"/engineers/{org.engineer.id}/skills").get_data(as_text=True)
    assert url in engineer_page
    holidays = "2027-04-01 to 2027-04-09\n2027-08-02"
    form = {"availability": "80 %", "hours_per_week": "2.5", "holidays": holidays}
    response = post_form(client, url, form)
    assert response.status_code == 302
    assert _capacity(org) == (80, "2.5", "2027-04-01 to 2027-04-09; 2027-08-02 to 2027-08-02")
    event = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "person.capacity")
    ).one()
    assert (event.actor_id, event.target_id, event.detail["availability_pct"]) == (
        org.manager.id,
        org.engineer.id,
        80,
    )
    page = html_lib.unescape(client.get(url).get_data(as_text=True))
    assert "Saved the capacity of Eve Engineer." in page
    assert "2027-04-01 to 2027-04-09\n2027-08-02 to 2027-08-02" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("availability", "120", "Availability must be a whole number of percent from 0 to 100"),
        ("availability", "", "Availability must be a whole number of percent from 0 to 100"),
        ("hours_per_week", "-2", "Learning hours per week must be a number from 0 to 40"),
        ("holidays", "2027-04-09 to 2027-04-01", "must go from its first day to its last"),
        ("holidays", "Easter", "write the first and last day as YYYY-MM-DD"),
    ],
)
def test_bad_capacity_input_says_what_to_write_and_stores_nothing(
    client: FlaskClient, auth: AuthActions, org: Org, field: str, value: str, message: str
) -> None:
    auth.login(org.manager.email)
    url = f"/staffing/people/{org.engineer.id}/capacity"
    good = {"availability": "60", "hours_per_week": "3", "holidays": "2027-04-01 to 2027-04-02"}
    response = post_form(client, url, {**good, field: value})
    assert response.status_code == 400
    assert message in html_lib.unescape(response.get_data(as_text=True))
    assert _capacity(org) == (100, "", "")  # nothing half-stored


def test_capacity_edit_needs_the_csrf_token_and_the_persons_manager(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    url = f"/staffing/people/{org.engineer.id}/capacity"
    auth.login(org.manager.email)
    assert client.post(url, data={"availability": "50"}).status_code == 400
    auth.logout()
    auth.login(org.other_manager.email)
    assert post_form(client, url, {"availability": "50"}, token_from="/").status_code == 403
    assert _capacity(org) == (100, "", "")
