"""Training plans as stored jobs, and from plan to action (issue 12, items 2 and 4).

A manager asks for a plan, a worker solves it, any server process shows it; the manager accepts
lines, which become training and project assignments the engineer sees on their home page, and
the manager tracks them (on track, late, done, verified). No GET request solves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from tests.conftest import (
    PASSWORD,
    AuthActions,
    FreshContextClient,
    Org,
    app_config,
    csrf_token,
    post_form,
)
from tests.staffing_factories import (
    give_level,
    make_levels,
    make_project,
    make_skill,
    make_submission,
    make_workshop,
    solved_plan,
)
from webapp import create_app, jobs
from webapp.db import db as _db
from webapp.models import (
    AuditEvent,
    EvidenceSource,
    PlanRun,
    Project,
    ProjectAssignment,
    SkillEvidence,
    Team,
    TrainingAssignment,
    WorkshopProgress,
)
from webapp.seed import demo
from webapp.services.planning import runs


@pytest.fixture()
def churn(org: Org) -> Project:
    """A project of the team needing two people at Competent in two skills, one workshop each:
    the plan trains Eve in one and Tom in the other."""
    make_levels()
    interp, data = make_skill("interp", "Model interpretability"), make_skill("dq", "Data quality")
    make_workshop("interpretability-in-practice", interp, 3, hours=6)
    make_workshop("data-quality-at-scale", data, 3, hours=5)
    project = make_project(org.team, needs=((interp, 3, 1), (data, 3, 1)))
    _db.session.commit()
    return project


def plan_url(org: Org) -> str:
    return f"/staffing/teams/{org.team.id}/plan"


def runs_of(team_id: int) -> list[PlanRun]:
    _db.session.expire_all()
    return list(_db.session.scalars(select(PlanRun).where(PlanRun.team_id == team_id)))


def test_asking_queues_a_job_no_get_solves_and_the_worker_fills_the_page(
    client: FlaskClient, auth: AuthActions, org: Org, churn: Project
) -> None:
    auth.login(org.manager.email)
    page = client.get(plan_url(org)).get_data(as_text=True)
    assert "No plan has been computed for this team yet" in page
    assert client.get(f"{plan_url(org)}.csv").status_code == 404  # nothing solved on the way
    assert client.get(f"/staffing/teams/{org.team.id}/report").status_code == 200
    assert runs_of(org.team.id) == []

    response = post_form(client, plan_url(org), {})
    assert response.status_code == 302
    post_form(client, plan_url(org), {})  # pressed twice: still one plan waiting
    (run,) = runs_of(org.team.id)
    assert (run.status, run.requested_by_id) == ("queued", org.manager.id)
    waiting = client.get(plan_url(org)).get_data(as_text=True)
    assert "Waiting for a worker" in waiting and 'data-refresh-while="pending"' in waiting
    assert runs_of(org.team.id)[0].status == "queued"  # the GET did not solve

    assert jobs.run_plan(run.id)
    assert not jobs.run_plan(run.id)  # a second worker finds it taken
    html = client.get(plan_url(org)).get_data(as_text=True)
    assert 'data-refresh-while=""' in html
    assert "Up to date" in html
    lines = re.findall(r'<label class="form-check-label" for="line-[^"]+">([^<]+)</label>', html)
    assert sorted(lines) == [
        "Eve Engineer reaches Competent in Model interpretability for Churn model by "
        f"{_day(churn.start_date)}: take Interpretability In Practice, 6 h",
        "Tom Teammate reaches Competent in Data quality for Churn model by "
        f"{_day(churn.start_date)}: take Data Quality At Scale, 5 h",
    ] or sorted(lines) == [  # the optimiser may swap who learns which: both cost 11 h
        "Eve Engineer reaches Competent in Data quality for Churn model by "
        f"{_day(churn.start_date)}: take Data Quality At Scale, 5 h",
        "Tom Teammate reaches Competent in Model interpretability for Churn model by "
        f"{_day(churn.start_date)}: take Interpretability In Practice, 6 h",
    ]
    csv_text = client.get(f"{plan_url(org)}.csv").get_data(as_text=True)
    assert "Interpretability In Practice" in csv_text
    assert _db.session.scalar(select(func.count()).where(AuditEvent.action == "plan.request")) == 1


def _day(when: date) -> str:
    return f"{when.day} {when:%B %Y}"


@pytest.fixture()
def second_process(app: Flask) -> Iterator[Flask]:
    """Another server process's app on the same database (its own caches and sessions)."""
    other = create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"]))
    other.test_client_class = FreshContextClient
    yield other
    with other.app_context():
        _db.session.remove()
        _db.engine.dispose()  # its own connections, closed rather than left to the collector


def test_a_plan_solved_by_the_worker_is_read_by_another_server_process(
    client: FlaskClient, auth: AuthActions, org: Org, churn: Project, second_process: Flask
) -> None:
    auth.login(org.manager.email)
    post_form(client, plan_url(org), {})
    (run,) = runs_of(org.team.id)
    assert jobs.run_plan(run.id)
    other = second_process.test_client()
    token = csrf_token(other, "/login")
    other.post(
        "/login", data={"email": org.manager.email, "password": PASSWORD, "csrf_token": token}
    )
    html = other.get(plan_url(org)).get_data(as_text=True)
    assert f"Plan {run.id}" in html and "Optimal within" in html
    api = other.get(f"/api/teams/{org.team.id}/plan")
    assert api.status_code == 401  # the API takes tokens only, as everywhere


def test_the_page_shows_progress_while_the_worker_solves(
    client: FlaskClient, auth: AuthActions, org: Org, churn: Project
) -> None:
    auth.login(org.manager.email)
    post_form(client, plan_url(org), {})
    (run,) = runs_of(org.team.id)
    now = datetime.now(UTC)
    claimed = runs.claim(_db.session, run.id, now=now - timedelta(seconds=12))
    assert claimed is not None
    claimed.stage = "Finding the plan for 2 engineers and 2 slots (at most 30 s)"
    _db.session.commit()
    html = client.get(plan_url(org)).get_data(as_text=True)
    assert "Computing the plan" in html
    assert "Finding the plan for 2 engineers and 2 slots (at most 30 s)" in html
    assert "12 s so far" in html or "13 s so far" in html, "the elapsed seconds show"
    bar = re.search(r'<progress[^>]*max="(\d+)" value="(\d+)"', html)
    assert bar, "a progress bar against the time limit"
    limit, value = int(bar.group(1)), int(bar.group(2))
    assert value in (min(12, limit), min(13, limit))
    assert "disabled" in html.split("Compute the plan")[0].rsplit("<button", 1)[1]


def test_a_plan_whose_worker_died_is_queued_again(app: Flask, org: Org, churn: Project) -> None:
    solved_plan(org.team)  # an earlier one, done
    run, _ = runs.request(
        _db.session,
        team_id=org.team.id,
        actor=org.manager,
        settings=runs.settings_from_json({}),
        now=datetime.now(UTC),
    )
    _db.session.commit()
    assert runs.claim(_db.session, run.id, now=datetime.now(UTC) - timedelta(hours=1))
    _db.session.commit()
    assert run.id in jobs.requeue_stalled_plans()
    assert runs_of(org.team.id)[-1].status == "queued"
    assert jobs.run_plan(run.id)
    assert runs_of(org.team.id)[-1].status == "done"


def test_a_plan_that_fails_says_what_to_do_and_the_next_one_works(
    client: FlaskClient, auth: AuthActions, org: Org, churn: Project
) -> None:
    auth.login(org.manager.email)
    post_form(client, plan_url(org), {})
    (run,) = runs_of(org.team.id)
    run.settings = {"time_limit_s": "soon"}  # what an old or broken deploy might have stored
    _db.session.commit()
    assert jobs.run_plan(run.id)
    html = client.get(plan_url(org)).get_data(as_text=True)
    assert "The plan could not be computed" in html and "to try again" in html
    post_form(client, plan_url(org), {})
    assert jobs.run_plan(runs_of(org.team.id)[-1].id)
    assert "could not be computed" not in client.get(plan_url(org)).get_data(as_text=True)


def _line_keys(html: str) -> list[str]:
    return re.findall(r'name="line" value="([^"]+)"', html)


def test_accepting_two_lines_makes_assignments_the_engineer_sees_and_the_manager_tracks(
    client: FlaskClient, auth: AuthActions, org: Org, churn: Project
) -> None:
    run = solved_plan(org.team, by=org.manager)
    auth.login(org.manager.email)
    keys = _line_keys(client.get(plan_url(org)).get_data(as_text=True))
    assert len(keys) == 2
    accept = f"/staffing/teams/{org.team.id}/plans/{run.id}/accept"
    response = post_form(client, accept, {"line": keys}, token_from=plan_url(org))
    assert response.status_code == 302 and response.headers["Location"].endswith("/training")
    flash = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Accepted 2 lines: 2 training assignments and 2 project assignments made." in flash

    rows = list(_db.session.scalars(select(TrainingAssignment)))
    assert {(r.user_id, r.project_id, r.plan_run_id) for r in rows} == {
        (org.engineer.id, churn.id, run.id),
        (org.teammate.id, churn.id, run.id),
    }
    assert all(r.due_date <= churn.start_date for r in rows)
    on_project = set(
        _db.session.execute(select(ProjectAssignment.user_id, ProjectAssignment.allocation_pct))
    )
    assert on_project == {(org.engineer.id, 100), (org.teammate.id, 100)}
    assert (
        _db.session.scalar(select(func.count()).where(AuditEvent.action == "plan.accept_line")) == 2
    )
    page = client.get(plan_url(org)).get_data(as_text=True)
    assert page.count(">Accepted</span>") == 2 and not _line_keys(page)
    again = post_form(client, accept, {"all": "1"}, token_from=plan_url(org))
    assert "accepted before" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(TrainingAssignment)) == 2

    training = client.get(f"/staffing/teams/{org.team.id}/training").get_data(as_text=True)
    assert "On track: 2" in training and "Late: 0" in training
    csv_text = client.get(f"/staffing/teams/{org.team.id}/training.csv").get_data(as_text=True)
    assert csv_text.count("on track") == 2 and "Churn model" in csv_text

    mine = next(r for r in rows if r.user_id == org.engineer.id)
    auth.logout()
    auth.login(org.engineer.email)
    home = client.get("/").get_data(as_text=True)
    assert "Training assigned to you" in home
    assert mine.workshop.title in home
    assert "for Churn model: Competent in" in home and _day(mine.due_date) in home
    assert "assigned by Mia Manager" in home

    # Eve passes the workshop: verified evidence at the level, so the line is verified.
    sub = make_submission(org.engineer, mine.workshop)
    _db.session.add_all(
        [
            WorkshopProgress(
                user_id=org.engineer.id, workshop_id=mine.workshop_id, passed_at=datetime.now(UTC)
            ),
            SkillEvidence(
                user_id=org.engineer.id,
                skill_id=mine.skill_id,
                level=3,
                source=EvidenceSource.WORKSHOP.value,
                submission_id=sub,
                recorded_at=datetime.now(UTC),
            ),
        ]
    )
    theirs = next(r for r in rows if r.user_id == org.teammate.id)
    theirs.due_date = date.today() - timedelta(days=1)
    _db.session.commit()
    auth.logout()
    auth.login(org.manager.email)
    training = client.get(f"/staffing/teams/{org.team.id}/training").get_data(as_text=True)
    assert "Verified: 1" in training and "Late: 1" in training and "On track: 0" in training


def test_a_line_that_no_longer_fits_refuses_the_whole_accept(
    client: FlaskClient, auth: AuthActions, org: Org, churn: Project
) -> None:
    run = solved_plan(org.team)
    org.teammate.active = False
    _db.session.commit()
    auth.login(org.manager.email)
    accept = f"/staffing/teams/{org.team.id}/plans/{run.id}/accept"
    response = post_form(client, accept, {"all": "1"}, token_from=plan_url(org))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was accepted: Tom Teammate is no longer active." in html
    assert "Compute the plan again and accept from the new one." in html
    assert _db.session.scalar(select(func.count()).select_from(TrainingAssignment)) == 0
    assert _db.session.scalar(select(func.count()).select_from(ProjectAssignment)) == 0
    bad = post_form(client, accept, {"line": ["999-999"]}, token_from=plan_url(org))
    assert "This plan has no such line" in client.get(bad.headers["Location"]).get_data(
        as_text=True
    )


def test_only_the_newest_plan_is_accepted_and_another_manager_cannot(
    client: FlaskClient, auth: AuthActions, org: Org, churn: Project
) -> None:
    old = solved_plan(org.team)
    solved_plan(org.team)
    auth.login(org.other_manager.email)
    accept = f"/staffing/teams/{org.team.id}/plans/{old.id}/accept"
    assert post_form(client, accept, {"all": "1"}, token_from="/").status_code == 403
    auth.logout()
    auth.login(org.manager.email)
    response = post_form(client, accept, {"all": "1"}, token_from=plan_url(org))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A newer plan replaced this one" in html
    assert _db.session.scalar(select(func.count()).select_from(TrainingAssignment)) == 0


def test_replanning_keeps_accepted_lines_and_history_compares_plans(
    client: FlaskClient, auth: AuthActions, org: Org, churn: Project
) -> None:
    first = solved_plan(org.team)
    auth.login(org.manager.email)
    keys = _line_keys(client.get(plan_url(org)).get_data(as_text=True))
    eve_key = next(k for k in keys if k.startswith(f"{org.engineer.id}-"))
    accept = f"/staffing/teams/{org.team.id}/plans/{first.id}/accept"
    post_form(client, accept, {"line": [eve_key]}, token_from=plan_url(org))
    assert "Out of date" in client.get(plan_url(org)).get_data(as_text=True)

    second = solved_plan(org.team)
    html = client.get(plan_url(org)).get_data(as_text=True)
    assert "Eve Engineer reaches Competent in" in html
    assert "with the training already accepted (" in html
    assert second.training_hours is not None and first.training_hours is not None
    assert second.training_hours < first.training_hours  # Eve's workshop is not counted again

    history = client.get(f"/staffing/teams/{org.team.id}/plans").get_data(as_text=True)
    assert f"Plan {first.id}" in history and f"Plan {second.id}" in history
    csv_text = client.get(f"/staffing/teams/{org.team.id}/plans.csv").get_data(as_text=True)
    assert csv_text.count("optimal") == 2
    compare = client.get(
        f"/staffing/teams/{org.team.id}/plans/compare?older={first.id}&newer={second.id}"
    ).get_data(as_text=True)
    assert "Same person and slot, other training" in compare
    assert "with the training already accepted" in compare
    past = client.get(f"/staffing/teams/{org.team.id}/plans/{first.id}").get_data(as_text=True)
    assert f"Plan {first.id} of {org.team.name}" in past


def test_verified_only_plans_ignore_claimed_levels(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    make_levels()
    skill = make_skill("ml", "Modelling")
    make_workshop("modelling-basics", skill, 3, hours=4)
    give_level(org.engineer, skill, 3)  # a manager's claim, not verified
    make_project(org.team, needs=((skill, 3, 1),), people=(org.engineer,))
    _db.session.commit()
    claims = runs.report_of(solved_plan(org.team))
    assert claims.plan.training_hours == 0
    verified = solved_plan(org.team, verified_only=True)
    assert verified.verified_only and verified.training_hours == 4
    auth.login(org.manager.email)
    assert "on verified levels only" in client.get(plan_url(org)).get_data(as_text=True)


def test_withdrawing_an_assignment_is_audited_and_only_for_its_managers(
    client: FlaskClient, auth: AuthActions, org: Org, churn: Project
) -> None:
    run = solved_plan(org.team)
    auth.login(org.manager.email)
    accept = f"/staffing/teams/{org.team.id}/plans/{run.id}/accept"
    post_form(client, accept, {"all": "1"}, token_from=plan_url(org))
    row_id = _db.session.scalars(select(TrainingAssignment.id)).first()
    assert row_id is not None
    auth.logout()
    auth.login(org.other_manager.email)
    url = f"/staffing/training/{row_id}/withdraw"
    assert post_form(client, url, {}, token_from="/").status_code == 403
    auth.logout()
    auth.login(org.manager.email)
    training = f"/staffing/teams/{org.team.id}/training"
    assert post_form(client, url, {}, token_from=training).status_code == 302
    assert (
        _db.session.scalar(select(TrainingAssignment.id).where(TrainingAssignment.id == row_id))
        is None
    )
    assert (
        _db.session.scalar(select(func.count()).where(AuditEvent.action == "training.withdraw"))
        == 1
    )


def test_demo_plan_says_why_a_slot_stays_open_and_each_hire_once(
    client: FlaskClient, auth: AuthActions, runner: FlaskCliRunner
) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0
    team = _db.session.scalars(select(Team).where(Team.name == "Data Platform")).one()
    solved_plan(team)
    auth.login(demo.email_for("Maria Lopez"), demo.DEMO_PASSWORD)
    html = client.get(f"/staffing/teams/{team.id}/plan").get_data(as_text=True)
    assert (
        "Feature store migration still lacks 1 person at Proficient in Data quality: no workshop "
        "in the catalog teaches Data quality to level 4; consider hiring." in html
    )
    hires = re.findall(r"<li>(One more hire[^<]*)</li>", html)
    assert hires and len(hires) == len(set(hires))


def test_a_new_plan_leaves_the_learning_time_that_accepted_training_needs(org: Org) -> None:
    # Eight learning hours before the projects start (an hour a week); Eve's accepted six-hour
    # workshop leaves her two, too few for a second six-hour one, so only Tom is trained for it.
    make_levels()
    vision, tabular = make_skill("cv", "Computer vision"), make_skill("tab", "Tabular models")
    first = make_workshop("vision-basics", vision, 3, hours=6)
    make_workshop("tabular-basics", tabular, 3, hours=6)
    scans = make_project(org.team, "Scans", weeks=8, needs=((vision, 3, 1),))
    churn = make_project(org.team, "Churn", weeks=8, needs=((tabular, 3, 2),))
    for need in (*scans.requirements, *churn.requirements):
        need.allocation_pct = 50  # time enough for both roles: learning time decides
    for person in (org.engineer, org.teammate):
        person.learning_hours_per_week = 1.0
    _db.session.add(
        TrainingAssignment(
            user_id=org.engineer.id,
            workshop_id=first.id,
            project_id=scans.id,
            skill_id=vision.id,
            level=3,
            due_date=scans.start_date,
        )
    )
    _db.session.commit()
    report = runs.report_of(solved_plan(org.team))
    trained = {(t.engineer_id, t.workshop_id) for t in report.plan.training}
    tabular_people = {e for e, w in trained if w != first.id}
    assert tabular_people == {org.teammate.id}
    assert report.plan.unfilled_slots == 1  # the second Churn slot: no one has the time


def test_a_slot_another_team_could_fill_names_who_to_admins_only(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    # No one in the team holds Forecasting at Expert and no workshop teaches it; Pat, of the
    # other team, holds it with time to spare.
    make_levels()
    skill = make_skill("forecast", "Forecasting")
    give_level(org.other_engineer, skill, 4)
    make_project(org.team, "Demand", needs=((skill, 4, 1),))
    _db.session.commit()
    auth.login(org.manager.email)
    post_form(client, plan_url(org), {})
    assert jobs.run_plan(runs_of(org.team.id)[-1].id)
    manager_view = client.get(plan_url(org)).get_data(as_text=True)
    assert "People of other teams could fill 1 more slot." in manager_view
    assert org.other_engineer.display_name not in manager_view  # their level stays theirs
    auth.logout()
    auth.login(org.admin.email)
    admin_view = client.get(plan_url(org)).get_data(as_text=True)
    assert f"Lending {org.other_engineer.display_name} from other teams would fill 1 more slot" in (
        " ".join(admin_view.split())
    )
