"""Staffing pages: managing projects, reading gaps, plans, CSV downloads and imports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.http import parse_options_header

from tests.conftest import AuthActions, Org, post_form
from tests.import_flow import checked, confirmed, import_all_the_way, upload
from tests.staffing_factories import (
    give_level,
    make_project,
    make_skill,
)
from webapp import jobs
from webapp.db import db as _db
from webapp.extensions import queue
from webapp.models import AuditEvent, Project, ProjectAssignment, ProjectRequirement


def test_manager_creates_a_project_adds_a_need_and_staffs_it(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    skill = make_skill("ml", "Modelling")
    give_level(org.engineer, skill, 3)
    _db.session.commit()
    auth.login(org.manager.email)
    start = (date.today() + timedelta(weeks=6)).isoformat()
    created = post_form(
        client,
        "/staffing/projects/new",
        {"name": "Churn", "team_id": org.team.id, "start_date": start, "status": "planned"},
    )
    assert created.status_code == 302
    project = _db.session.scalars(select(Project)).one()
    page = f"/staffing/projects/{project.id}"
    requirement = {"skill_id": skill.id, "min_level": 3, "headcount": 2, "importance": 4}
    post_form(
        client, f"{page}/requirements", {**requirement, "allocation_pct": 50}, token_from=page
    )
    post_form(
        client,
        f"{page}/assignments",
        {"user_id": org.engineer.id, "allocation_pct": 50},
        token_from=page,
    )
    html = client.get(page).get_data(as_text=True)
    assert "1 missing" in html
    assert "Eve Engineer (3, qualified)" in html


def test_other_teams_manager_cannot_open_or_change_the_project(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    project = make_project(org.team)
    _db.session.commit()
    auth.login(org.other_manager.email)
    assert client.get(f"/staffing/projects/{project.id}").status_code == 403
    response = post_form(
        client, f"/staffing/projects/{project.id}/archive", {}, token_from="/staffing/"
    )
    assert response.status_code == 403
    assert "Churn model" not in client.get("/staffing/").get_data(as_text=True)


def test_levels_of_people_from_teams_the_manager_does_not_manage_are_hidden(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    skill = make_skill("ml", "Modelling")
    give_level(org.other_engineer, skill, 5)
    project = make_project(org.team, needs=((skill, 3, 1),), people=(org.other_engineer,))
    _db.session.commit()
    auth.login(org.manager.email)
    html = client.get(f"/staffing/projects/{project.id}").get_data(as_text=True)
    assert "Pat Platform (another team: level not shown, not counted)" in html
    assert "(5, qualified)" not in html and "1 missing" in html
    assert "1 person on this project is from a team you do not manage" in " ".join(html.split())


def test_a_probe_project_reveals_nothing_of_another_teams_levels(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    skill = make_skill("ml", "Modelling")
    give_level(org.other_engineer, skill, 4)
    make_project(org.team, "Probe")
    _db.session.commit()
    auth.login(org.manager.email)
    requirements = "project,skill,min_level\nProbe,ml,4\n"
    assert "Imported 1 row." in import_file(client, app, "requirements", requirements)
    refused = import_file(client, app, "assignments", "project,email\nProbe,pat@example.com\n")
    assert "nothing will be imported" in refused
    assert "pat@example.com is not in a team you manage" in refused
    assert _db.session.scalar(select(func.count()).select_from(ProjectAssignment)) == 0
    before = client.get("/staffing/gaps.csv").get_data(as_text=True)
    project = _db.session.scalars(select(Project)).one()
    _db.session.add(ProjectAssignment(project_id=project.id, user_id=org.other_engineer.id))
    _db.session.commit()  # an admin lent Pat to the project
    after = client.get("/staffing/gaps.csv").get_data(as_text=True).splitlines()
    assert after[0].endswith(",qualified,missing,level_shortfall,people_not_counted")
    assert after[1:] == [line.removesuffix(",0") + ",1" for line in before.splitlines()[1:]]
    assert after[1].endswith(",0,1,4,1")
    page = " ".join(client.get("/staffing/gaps").get_data(as_text=True).split())
    assert "1 project has people from teams you do not manage" in page


def import_file(client: FlaskClient, app: Flask, kind: str, text: str) -> str:
    """The staffing import all the way through its pages and the worker: the last page."""
    return import_all_the_way(client, app, "/staffing/import", text, kind=kind)


def test_gap_csv_downloads_every_requirement(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    skill = make_skill("ml", "Modelling")
    make_project(org.team, needs=((skill, 3, 2),))
    make_project(org.other_team, "Hidden", needs=((skill, 3, 1),))
    _db.session.commit()
    auth.login(org.manager.email)
    response = client.get("/staffing/gaps.csv")
    kind, options = parse_options_header(response.headers["Content-Disposition"])
    assert (kind, options["filename"]) == ("attachment", "gaps.csv")
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("project,team,start_date,skill")
    assert len(lines) == 2 and lines[1].startswith("Churn model,Applied ML,")
    assert lines[1].endswith(",0,2,6,0")  # nobody qualified, two missing, 2 x 3 levels short


def test_import_with_bad_rows_lists_them_and_stores_nothing(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    make_skill("ml")
    make_project(org.team, "Churn")
    _db.session.commit()
    auth.login(org.manager.email)
    text = "project,skill,min_level\nChurn,ml,3\nChurn,nope,3\nGhost,ml,9\n"
    html = import_file(client, app, "requirements", text)
    assert "2 problems: nothing will be imported." in html
    assert "no skill with the code &#39;nope&#39;" in html
    assert "no project called &#39;Ghost&#39;" in html
    assert _db.session.scalar(select(func.count()).select_from(ProjectRequirement)) == 0


def test_printable_report_has_the_gaps_and_a_print_stylesheet(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    skill = make_skill("ml", "Modelling")
    make_project(org.team, needs=((skill, 4, 1),))
    _db.session.commit()
    auth.login(org.manager.email)
    html = client.get(f"/staffing/teams/{org.team.id}/report").get_data(as_text=True)
    assert "Unmet requirements" in html and "Modelling" in html
    response = client.get("/static/app.css")
    css = response.get_data(as_text=True)
    response.close()
    assert "@media print" in css


def test_taking_someone_off_a_project_is_audited(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    project = make_project(org.team, people=(org.engineer,))
    _db.session.commit()
    row = _db.session.scalars(select(ProjectAssignment)).one()
    auth.login(org.manager.email)
    page = f"/staffing/projects/{project.id}"
    response = post_form(client, f"/staffing/assignments/{row.id}/delete", {}, token_from=page)
    assert response.status_code == 302
    assert _db.session.scalar(select(func.count()).select_from(ProjectAssignment)) == 0
    event = _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assignment.remove")
    ).one()
    assert (event.actor_id, event.detail["user_id"]) == (org.manager.id, org.engineer.id)


def test_a_file_that_the_data_makes_wrong_after_its_preview_is_refused_whole(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    make_skill("ml")
    project = make_project(org.team, "Churn")
    _db.session.commit()
    auth.login(org.manager.email)
    url = upload(
        client,
        "/staffing/import",
        {"kind": "requirements"},
        b"project,skill,min_level\nChurn,ml,3\n",
    )
    assert "Every row is good." in checked(client, app, url)
    project.name = "Churn (renamed)"  # someone renames it before the go
    _db.session.commit()
    page = confirmed(client, app, url)
    assert "1 problem: nothing will be imported." in page and "no project called" in page
    assert _db.session.scalar(select(func.count()).select_from(ProjectRequirement)) == 0


def test_an_import_whose_job_was_lost_is_queued_again_once(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    auth.login(org.manager.email)
    queue.flush()
    url = upload(client, "/staffing/import", {"kind": "projects"}, b"name,team,start_date\n")
    queue.flush()  # the job never reached a worker
    later = datetime.now(UTC) + timedelta(minutes=3)
    with app.app_context(), time_machine.travel(later):
        assert jobs.requeue_stalled_imports() == [int(url.rsplit("/", 1)[1])]
        assert jobs.requeue_stalled_imports() == []  # waiting in the queue: not again
    queue.flush()
