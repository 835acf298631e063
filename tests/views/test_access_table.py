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
from sqlalchemy import select

from tests.conftest import AuthActions, Org, csrf_token
from tests.factories import fixture_catalog
from webapp.db import db as _db

LOGIN = "login"
ALL = (LOGIN, 200, 200, 200, 200)
ADMIN_ONLY = (LOGIN, 403, 403, 403, 200)
TEAM_MANAGERS = (LOGIN, 403, 403, 200, 200)
PUBLIC = (200, 200, 200, 200, 200)
ANY_400 = (LOGIN, 400, 400, 400, 400)
AUTHOR_OR_ADMIN = (LOGIN, 200, 403, 403, 200)
NO_KERNEL = (LOGIN, 409, 409, 409, 409)
ADMIN_302 = (LOGIN, 403, 403, 403, 302)
SIGNED_IN_302 = (LOGIN, 302, 302, 302, 302)

URL = Callable[[Org], str]
# endpoint -> (method, url builder, expected answers)
TABLE: dict[str, tuple[str, URL, tuple[object, ...]]] = {
    "auth.login": ("GET", lambda o: "/login", PUBLIC),
    "auth.logout": ("POST", lambda o: "/logout", (LOGIN, 302, 302, 302, 302)),
    "auth.change_password": ("GET", lambda o: "/account/password", ALL),
    "main.home": ("GET", lambda o: "/", ALL),
    "main.health": ("GET", lambda o: "/healthz", PUBLIC),
    # Public like /healthz; 503 only because no grading worker reports (see test_health.py).
    "main.ready": ("GET", lambda o: "/readyz", (503,) * 5),
    "teams.show": ("GET", lambda o: f"/teams/{o.team.id}", TEAM_MANAGERS),
    "teams.members_export": ("GET", lambda o: f"/teams/{o.team.id}/members.csv", TEAM_MANAGERS),
    "teams.teams_export": ("GET", lambda o: "/teams/export.csv", (LOGIN, 403, 200, 200, 200)),
    "admin.users": ("GET", lambda o: "/admin/users", ADMIN_ONLY),
    "admin.new_user": ("GET", lambda o: "/admin/users/new", ADMIN_ONLY),
    "admin.import_roster": ("GET", lambda o: "/admin/users/import", ADMIN_ONLY),
    "admin.audit_log": ("GET", lambda o: "/admin/audit", ADMIN_ONLY),
    "admin.grading": ("GET", lambda o: "/admin/grading", ADMIN_ONLY),
    "admin.backup": ("GET", lambda o: "/admin/backup", ADMIN_ONLY),
    "admin.import_run": ("GET", lambda o: f"/admin/imports/{_import_run(o, 'roster')}", ADMIN_ONLY),
    "admin.import_problems": (
        "GET",
        lambda o: f"/admin/imports/{_import_run(o, 'roster')}/problems.csv",
        ADMIN_ONLY,
    ),
    "admin.import_invitations": (
        "GET",
        lambda o: f"/admin/imports/{_import_run(o, 'roster')}/invitations.csv",
        ADMIN_ONLY,
    ),
    "admin.import_confirm": (
        "POST",
        lambda o: f"/admin/imports/{_import_run(o, 'roster')}/confirm",
        ADMIN_302,
    ),
    "admin.import_discard": (
        "POST",
        lambda o: f"/admin/imports/{_import_run(o, 'roster')}/discard",
        ADMIN_302,
    ),
    # A person's life after creation (issue 13): admins only; state changes redirect back.
    "admin.user": ("GET", lambda o: f"/admin/users/{_spare(o)}", ADMIN_ONLY),
    "admin.deactivate": ("POST", lambda o: f"/admin/users/{_spare(o)}/deactivate", ADMIN_302),
    "admin.reactivate": ("POST", lambda o: f"/admin/users/{_spare(o)}/reactivate", ADMIN_302),
    "admin.reset_link": ("POST", lambda o: f"/admin/users/{_spare(o)}/reset-link", ADMIN_ONLY),
    "admin.sign_out_user": ("POST", lambda o: f"/admin/users/{_spare(o)}/sign-out", ADMIN_302),
    "admin.add_membership": ("POST", lambda o: f"/admin/users/{_spare(o)}/teams", ADMIN_302),
    "admin.remove_membership": (
        "POST",
        lambda o: f"/admin/memberships/{_spare_membership(o)}/remove",
        ADMIN_302,
    ),
    "admin.tokens": ("GET", lambda o: "/admin/tokens", ADMIN_ONLY),
    "admin.revoke_token": ("POST", lambda o: "/admin/tokens/999999/revoke", ADMIN_302),
    # Anyone's own sessions; a reset link that is not genuine is refused for everyone.
    "auth.my_sessions": ("GET", lambda o: "/account/sessions", ALL),
    "auth.end_session": ("POST", lambda o: "/account/sessions/999999/end", SIGNED_IN_302),
    "auth.sign_out_everywhere": (
        "POST",
        lambda o: "/account/sessions/sign-out-everywhere",
        SIGNED_IN_302,
    ),
    "auth.reset_password": ("GET", lambda o: "/reset/not-a-real-token", (400,) * 5),
    "auth.invitation": ("GET", lambda o: "/invite/not-a-real-token", (400,) * 5),
    "learn.catalog": ("GET", lambda o: "/workshops", ALL),
    "learn.workshop": ("GET", lambda o: f"/workshops/{_tiny(o)}", ALL),
    "learn.notebook": ("GET", lambda o: f"/workshops/tiny/notebooks/{_nb(o)}", ALL),
    "learn.download_student": (
        "GET",
        lambda o: f"/workshops/tiny/notebooks/{_nb(o)}/download",
        ALL,
    ),
    "learn.download_source": (
        "GET",
        lambda o: f"/workshops/tiny/notebooks/{_nb(o)}/source",
        ADMIN_ONLY,
    ),
    "learn.highlight_css": ("GET", lambda o: "/notebook-highlight.css", PUBLIC),
    # Any logged-in user may work on a notebook; an empty form is refused as bad input.
    "learn.submit": ("POST", lambda o: f"/workshops/tiny/notebooks/{_nb(o)}/submit", ANY_400),
    "learn.upload": ("POST", lambda o: f"/workshops/tiny/notebooks/{_nb(o)}/upload", ANY_400),
    "learn.save_draft": ("POST", lambda o: f"/workshops/tiny/notebooks/{_nb(o)}/draft", ANY_400),
    # Live kernels: any logged-in user, their own kernel only (the suite's app has no kernel host:
    # starting one is 503; with none running, the others are 409).
    "learn.kernel_status": ("GET", lambda o: f"/workshops/tiny/notebooks/{_nb(o)}/kernel", ALL),
    "learn.kernel_start": (
        "POST",
        lambda o: f"/workshops/tiny/notebooks/{_nb(o)}/kernel",
        (LOGIN, 503, 503, 503, 503),
    ),
    "learn.kernel_control": (
        "POST",
        lambda o: f"/workshops/tiny/notebooks/{_nb(o)}/kernel/interrupt",
        NO_KERNEL,
    ),
    "learn.kernel_run": (
        "POST",
        lambda o: f"/workshops/tiny/notebooks/{_nb(o)}/kernel/run",
        NO_KERNEL,
    ),
    "learn.check_exercise": (
        "POST",
        lambda o: f"/workshops/tiny/notebooks/{_nb(o)}/check/test_mean",
        NO_KERNEL,
    ),
    # Each engineer sees their own next hint; nobody's hints are anyone else's.
    "learn.show_hint": (
        "POST",
        lambda o: f"/workshops/tiny/notebooks/{_nb(o)}/exercises/impl_mean/hint",
        ALL,
    ),
    # Attempts show raw scores: their author and admins only (managers see levels).
    "learn.submission": ("GET", lambda o: f"/submissions/{_attempt(o)}", AUTHOR_OR_ADMIN),
    "learn.submission_download": (
        "GET",
        lambda o: f"/submissions/{_attempt(o)}/graded.ipynb",
        AUTHOR_OR_ADMIN,
    ),
    "learn.submission_status": (
        "GET",
        lambda o: f"/submissions/{_attempt(o)}/status.json",
        AUTHOR_OR_ADMIN,
    ),
    "learn.review_queue": ("GET", lambda o: "/reviews", (LOGIN, 403, 200, 200, 200)),
    # An empty grade is sent back to the queue page; only the team's manager or an admin gets there.
    "learn.review_answer": (
        "POST",
        lambda o: f"/reviews/{_manual_result(o)}",
        (LOGIN, 403, 403, 302, 302),
    ),
    "admin.catalog_admin": ("GET", lambda o: "/admin/catalog", ADMIN_ONLY),
    "admin.catalog_sync": ("POST", lambda o: "/admin/catalog/sync", (LOGIN, 403, 403, 403, 302)),
    "admin.catalog_worked_examples": (
        "POST",
        lambda o: "/admin/catalog/worked-examples",
        (LOGIN, 403, 403, 403, 302),
    ),
    # skills: engineer pages (own data), one engineer's page, team matrices and trends
    "skills.mine": ("GET", lambda o: "/skills", ALL),
    "skills.assess_self": ("POST", lambda o: "/skills/assess", (LOGIN, 302, 302, 302, 302)),
    "skills.my_history": ("GET", lambda o: "/skills/history", ALL),
    "skills.manager_view": ("GET", lambda o: "/skills/manager-view", ALL),
    "skills.my_export": ("GET", lambda o: "/skills/export.csv", ALL),
    "skills.gaps": ("GET", lambda o: "/skills/gaps", ALL),
    "skills.choose_target": ("POST", lambda o: "/skills/target", (LOGIN, 302, 302, 302, 302)),
    "skills.engineer": (
        "GET",
        lambda o: f"/engineers/{o.engineer.id}/skills",
        (LOGIN, 200, 403, 200, 200),
    ),
    "skills.engineer_export": (
        "GET",
        lambda o: f"/engineers/{o.engineer.id}/skills/export.csv",
        (LOGIN, 200, 403, 200, 200),
    ),
    "skills.assess_engineer": (
        "POST",
        lambda o: f"/engineers/{o.engineer.id}/assess",
        (LOGIN, 403, 403, 302, 302),
    ),
    "skills.team_index": ("GET", lambda o: "/skills/teams", (LOGIN, 403, 200, 200, 200)),
    "skills.matrix": ("GET", lambda o: f"/teams/{o.team.id}/matrix", TEAM_MANAGERS),
    "skills.matrix_export": (
        "GET",
        lambda o: f"/teams/{o.team.id}/matrix/export.csv",
        TEAM_MANAGERS,
    ),
    "skills.report": ("GET", lambda o: f"/teams/{o.team.id}/report", TEAM_MANAGERS),
    "skills.trends": ("GET", lambda o: f"/teams/{o.team.id}/trends", TEAM_MANAGERS),
    "skills.trends_export": (
        "GET",
        lambda o: f"/teams/{o.team.id}/trends/export.csv",
        TEAM_MANAGERS,
    ),
}


def _attempt(org: Org) -> int:
    """A graded attempt by the engineer, with one answer waiting for review."""
    from webapp.models import Exercise, ExerciseResult, Notebook, NotebookVersion, Submission

    existing = _db.session.scalar(
        select(Submission.id).where(Submission.user_id == org.engineer.id)
    )
    if existing:
        return existing
    notebook = _db.session.get(Notebook, _nb(org))
    version = _db.session.scalar(
        select(NotebookVersion).where(NotebookVersion.notebook_id == notebook.id)
    )
    exercise = _db.session.scalar(select(Exercise).where(Exercise.version_id == version.id))
    sub = Submission(
        user_id=org.engineer.id,
        version_id=version.id,
        notebook=version.student,
        feedback=version.student,
        status="graded",
        score=0,
        max_score=exercise.points,
        needs_review=True,
    )
    sub.results = [
        ExerciseResult(
            exercise_id=exercise.id,
            grade_id=exercise.grade_id,
            status="manual",
            points=None,
            max_points=exercise.points,
        )
    ]
    _db.session.add(sub)
    _db.session.commit()
    return sub.id


def _manual_result(org: Org) -> int:
    from webapp.models import ExerciseResult

    return _db.session.scalar(
        select(ExerciseResult.id).where(ExerciseResult.submission_id == _attempt(org))
    )


def _nb(org: Org) -> int:
    """The fixture catalog's tiny notebook (synced on first use in each test)."""
    return fixture_catalog()["tiny"]


def _tiny(org: Org) -> str:
    fixture_catalog()
    return "tiny"


VISITORS = ("anonymous", "engineer", "other_manager", "manager", "admin")


# Staffing rows need a project, a requirement, an assignment, a profile and a token to act on;
# each is created on first use and again after a visitor deleted it.
def _staffing_project(o: Org) -> int:
    from datetime import date

    from webapp.db import db
    from webapp.models import Project

    project = db.session.query(Project).filter_by(name="Access table project").one_or_none()
    if project is None:
        project = Project(
            name="Access table project", team_id=o.team.id, start_date=date(2030, 1, 1)
        )
        db.session.add(project)
        db.session.commit()
    return project.id


def _staffing_requirement(o: Org) -> int:
    from webapp.db import db
    from webapp.models import ProjectRequirement, Skill, SkillCategory

    skill = db.session.query(Skill).filter_by(code="access-skill").one_or_none()
    if skill is None:
        skill = Skill(
            code="access-skill", name="Access", category=SkillCategory(code="ac", name="Ac")
        )
    project_id = _staffing_project(o)
    req = db.session.query(ProjectRequirement).filter_by(project_id=project_id).one_or_none()
    if req is None:
        req = ProjectRequirement(project_id=project_id, skill=skill, min_level=3)
        db.session.add(req)
        db.session.commit()
    return req.id


def _spare(o: Org) -> int:
    """A user only admins act on in these rows (deactivating a visitor would end the table)."""
    from tests.factories import make_user
    from webapp.db import db
    from webapp.models import User

    user = db.session.query(User).filter_by(email="spare@example.com").one_or_none()
    if user is None:
        user = make_user(name="Sam Spare", email="spare@example.com", team=o.team)
        db.session.commit()
    return int(user.id)


def _import_run(o: Org, kind: str) -> int:
    """An import refused at its check: a roster file of the admin's, a staffing file of the
    manager's (nothing to confirm, so the POST rows change nothing)."""
    from webapp.db import db
    from webapp.models import ImportRun

    owner = o.admin if kind == "roster" else o.manager
    run = db.session.query(ImportRun).filter_by(kind=kind).one_or_none()
    if run is None:
        run = ImportRun(
            kind=kind,
            actor_id=owner.id,
            filename=f"{kind}.csv",
            data=b"x",
            status="refused",
            problems=[[1, "", "a problem"]],
            problem_count=1,
        )
        db.session.add(run)
        db.session.commit()
    return int(run.id)


def _spare_membership(o: Org) -> int:
    from webapp.db import db
    from webapp.models import TeamMembership

    row = db.session.query(TeamMembership).filter_by(user_id=_spare(o)).first()
    if row is None:
        row = TeamMembership(user_id=_spare(o), team_id=o.team.id)
        db.session.add(row)
        db.session.commit()
    return int(row.id)


def _plan_run(o: Org) -> int:
    """A stored plan of the team (solved on its current, empty, data)."""
    from datetime import UTC, datetime

    from webapp.db import db
    from webapp.models import PlanRun
    from webapp.services.planning import plan, runs

    run = db.session.query(PlanRun).filter_by(team_id=o.team.id).first()
    if run is None:
        inputs = plan.load_inputs(db.session, [o.team.id])
        settings = plan.PlanSettings()
        now = datetime.now(UTC)
        run = runs.record_solved(
            db.session,
            team_id=o.team.id,
            inputs=inputs,
            report=plan.solve(inputs, settings),
            settings=settings,
            verified_only=False,
            requested_at=now,
            now=now,
        )
        db.session.commit()
    return int(run.id)


def _training_assignment(o: Org) -> int:
    """A new workshop assignment of the team's engineer for the team's project, made for each
    visitor (an allowed visitor's withdrawal deletes the one before)."""
    from datetime import date

    from tests.staffing_factories import make_skill, make_workshop
    from webapp.db import db
    from webapp.models import Skill, TrainingAssignment, Workshop

    skill = db.session.query(Skill).filter_by(code="access-skill").one_or_none()
    skill = skill or make_skill("access-skill")
    workshop = db.session.query(Workshop).filter_by(slug="access-workshop").one_or_none()
    workshop = workshop or make_workshop("access-workshop", skill, 3)
    row = TrainingAssignment(
        user_id=o.engineer.id,
        workshop_id=workshop.id,
        project_id=_staffing_project(o),
        skill_id=skill.id,
        level=3,
        due_date=date(2030, 1, 1),
    )
    db.session.add(row)
    db.session.commit()
    return int(row.id)


def _staffing_assignment(o: Org) -> int:
    from webapp.db import db
    from webapp.models import ProjectAssignment

    project_id = _staffing_project(o)
    row = db.session.query(ProjectAssignment).filter_by(project_id=project_id).one_or_none()
    if row is None:
        row = ProjectAssignment(project_id=project_id, user_id=o.engineer.id)
        db.session.add(row)
        db.session.commit()
    return row.id


def _role_profile(o: Org) -> int:
    from webapp.db import db
    from webapp.models import RoleProfile

    profile = db.session.query(RoleProfile).filter_by(name="Access profile").one_or_none()
    if profile is None:
        profile = RoleProfile(name="Access profile")
        db.session.add(profile)
        db.session.commit()
    return profile.id


def _engineer_token(o: Org) -> int:
    from webapp.db import db
    from webapp.services.people import api_tokens

    token = api_tokens.create_token(db.session, actor=o.engineer, name="access table").token
    db.session.commit()
    return token.id


MANAGERS = (LOGIN, 403, 200, 200, 200)
API = (401, 401, 401, 401, 401)  # token only: a browser session is not enough
TABLE.update(
    {
        "staffing.projects": ("GET", lambda o: "/staffing/", MANAGERS),
        "staffing.new_project": ("GET", lambda o: "/staffing/projects/new", MANAGERS),
        "staffing.project": (
            "GET",
            lambda o: f"/staffing/projects/{_staffing_project(o)}",
            TEAM_MANAGERS,
        ),
        "staffing.edit_project": (
            "GET",
            lambda o: f"/staffing/projects/{_staffing_project(o)}/edit",
            TEAM_MANAGERS,
        ),
        "staffing.project_gaps_csv": (
            "GET",
            lambda o: f"/staffing/projects/{_staffing_project(o)}/gaps.csv",
            TEAM_MANAGERS,
        ),
        "staffing.archive_project": (
            "POST",
            lambda o: f"/staffing/projects/{_staffing_project(o)}/archive",
            (LOGIN, 403, 403, 302, 302),
        ),
        "staffing.set_requirement": (
            "POST",
            lambda o: f"/staffing/projects/{_staffing_project(o)}/requirements",
            (LOGIN, 403, 403, 302, 302),
        ),
        "staffing.remove_requirement": (
            "POST",
            lambda o: f"/staffing/requirements/{_staffing_requirement(o)}/delete",
            (LOGIN, 403, 403, 302, 302),
        ),
        "staffing.assign": (
            "POST",
            lambda o: f"/staffing/projects/{_staffing_project(o)}/assignments",
            (LOGIN, 403, 403, 302, 302),
        ),
        "staffing.unassign": (
            "POST",
            lambda o: f"/staffing/assignments/{_staffing_assignment(o)}/delete",
            (LOGIN, 403, 403, 302, 302),
        ),
        "staffing.person_capacity": (
            "GET",
            lambda o: f"/staffing/people/{o.engineer.id}/capacity",
            TEAM_MANAGERS,
        ),
        # An empty form is bad input: the manager and the admin get it back with the reason.
        "staffing.save_capacity": (
            "POST",
            lambda o: f"/staffing/people/{o.engineer.id}/capacity",
            (LOGIN, 403, 403, 400, 400),
        ),
        "staffing.gap_report": ("GET", lambda o: "/staffing/gaps", MANAGERS),
        "staffing.gap_report_csv": ("GET", lambda o: "/staffing/gaps.csv", MANAGERS),
        "staffing.plan": ("GET", lambda o: f"/staffing/teams/{o.team.id}/plan", TEAM_MANAGERS),
        "staffing.request_plan": (
            "POST",
            lambda o: f"/staffing/teams/{o.team.id}/plan",
            (LOGIN, 403, 403, 302, 302),
        ),
        "staffing.plan_csv": (
            "GET",
            lambda o: f"/staffing/teams/{o.team.id}/plan.csv?run={_plan_run(o)}",
            TEAM_MANAGERS,
        ),
        "staffing.plan_history": (
            "GET",
            lambda o: f"/staffing/teams/{o.team.id}/plans",
            TEAM_MANAGERS,
        ),
        "staffing.plan_history_csv": (
            "GET",
            lambda o: f"/staffing/teams/{o.team.id}/plans.csv",
            TEAM_MANAGERS,
        ),
        "staffing.past_plan": (
            "GET",
            lambda o: f"/staffing/teams/{o.team.id}/plans/{_plan_run(o)}",
            TEAM_MANAGERS,
        ),
        "staffing.compare_plans": (
            "GET",
            lambda o: (
                f"/staffing/teams/{o.team.id}/plans/compare"
                f"?older={_plan_run(o)}&newer={_plan_run(o)}"
            ),
            TEAM_MANAGERS,
        ),
        # An empty accept (no line ticked) is refused with a message on the plan page.
        "staffing.accept_plan": (
            "POST",
            lambda o: f"/staffing/teams/{o.team.id}/plans/{_plan_run(o)}/accept",
            (LOGIN, 403, 403, 302, 302),
        ),
        "staffing.training": (
            "GET",
            lambda o: f"/staffing/teams/{o.team.id}/training",
            TEAM_MANAGERS,
        ),
        "staffing.training_csv": (
            "GET",
            lambda o: f"/staffing/teams/{o.team.id}/training.csv",
            TEAM_MANAGERS,
        ),
        "staffing.withdraw_training": (
            "POST",
            lambda o: f"/staffing/training/{_training_assignment(o)}/withdraw",
            (LOGIN, 403, 403, 302, 302),
        ),
        "staffing.report": ("GET", lambda o: f"/staffing/teams/{o.team.id}/report", TEAM_MANAGERS),
        "staffing.export": ("GET", lambda o: "/staffing/export/requirements.csv", MANAGERS),
        "staffing.import_csv": ("GET", lambda o: "/staffing/import", MANAGERS),
        # A manager's own import: another manager is told there is no such import.
        "staffing.import_run": (
            "GET",
            lambda o: f"/staffing/imports/{_import_run(o, 'projects')}",
            (LOGIN, 403, 404, 200, 200),
        ),
        "staffing.import_problems": (
            "GET",
            lambda o: f"/staffing/imports/{_import_run(o, 'projects')}/problems.csv",
            (LOGIN, 403, 404, 200, 200),
        ),
        "staffing.import_confirm": (
            "POST",
            lambda o: f"/staffing/imports/{_import_run(o, 'projects')}/confirm",
            (LOGIN, 403, 302, 302, 302),
        ),
        "staffing.import_discard": (
            "POST",
            lambda o: f"/staffing/imports/{_import_run(o, 'projects')}/discard",
            (LOGIN, 403, 302, 302, 302),
        ),
        "staffing.profiles": ("GET", lambda o: "/staffing/profiles", MANAGERS),
        "staffing.profile": ("GET", lambda o: f"/staffing/profiles/{_role_profile(o)}", MANAGERS),
        "staffing.archive_profile": (
            "POST",
            lambda o: f"/staffing/profiles/{_role_profile(o)}/archive",
            (LOGIN, 403, 302, 302, 302),
        ),
        "api.openapi": ("GET", lambda o: "/api/openapi.json", PUBLIC),
        "api.teams": ("GET", lambda o: "/api/teams", API),
        "api.team_matrix": ("GET", lambda o: f"/api/teams/{o.team.id}/matrix", API),
        "api.all_gaps": ("GET", lambda o: "/api/projects/gaps", API),
        "api.project_gaps": ("GET", lambda o: f"/api/projects/{_staffing_project(o)}/gaps", API),
        "api.team_plan": ("GET", lambda o: f"/api/teams/{o.team.id}/plan", API),
        "api.engineer_progress": ("GET", lambda o: f"/api/engineers/{o.engineer.id}/progress", API),
        "api_tokens.index": ("GET", lambda o: "/account/api-tokens/", ALL),
        "api_tokens.revoke": (
            "POST",
            lambda o: f"/account/api-tokens/{_engineer_token(o)}/revoke",
            (LOGIN, 302, 404, 404, 302),
        ),
    }
)


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
