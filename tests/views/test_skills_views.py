"""Skill pages through HTTP: self and manager assessments, what the manager sees, gaps, matrix."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import post_form
from webapp.db import db as _db
from webapp.models import (
    AuditEvent,
    ProficiencyLevel,
    Project,
    ProjectAssignment,
    ProjectRequirement,
    RoleProfile,
    RoleProfileSkill,
    SkillEvidence,
    Submission,
)
from webapp.seed import demo

DESCRIPTORS = {1: "Can follow a guide", 3: "Works unaided on typical problems"}


@pytest.fixture()
def levels(db: object) -> None:
    for n in range(1, 6):
        _db.session.add(
            ProficiencyLevel(level=n, name=f"L{n}", descriptor=DESCRIPTORS.get(n, f"Level {n}"))
        )
    _db.session.commit()


def table(html: str, testid: str) -> str:
    match = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', html, re.S)
    assert match, testid
    return match.group(0)


def hints_noted(response) -> list[str]:  # noqa: ANN001
    """The hints-used notes in a page's evidence history, in table order."""
    history = table(response.get_data(as_text=True), "skill-history")
    return re.findall(r'data-testid="hints-used">([^<]*)<', history)


def csv_rows(response) -> list[list[str]]:  # noqa: ANN001
    """Skill, level, source and hints used of each row of a history CSV (header checked)."""
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    assert lines[0][-2:] == ["note", "hints_used"]
    return [[row[0], row[1], row[2], row[-1]] for row in lines[1:]]


def test_self_assessment_form_shows_descriptors_and_records_a_level(
    client,
    auth,
    org,
    skill_kit,
    levels,  # noqa: ANN001
) -> None:
    bias = skill_kit.skill("bias")
    _db.session.commit()
    auth.login(org.engineer.email)
    page = client.get("/skills").get_data(as_text=True)
    assert "Works unaided on typical problems" in page
    response = post_form(
        client, "/skills/assess", {"skill": bias.id, "level": 3}, token_from="/skills"
    )
    assert response.status_code == 302
    page = client.get("/skills").get_data(as_text=True)
    skills_table = table(page, "my-skills")
    assert "Bias" in skills_table and "Self-assessment" in skills_table


def test_a_new_self_assessment_keeps_the_old_one_in_history(client, auth, org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    skill_kit.evidence(org.engineer, bias, 2, at=datetime(2024, 1, 5, tzinfo=UTC))
    _db.session.commit()
    auth.login(org.engineer.email)
    post_form(client, "/skills/assess", {"skill": bias.id, "level": 4}, token_from="/skills")
    history = table(client.get("/skills/history").get_data(as_text=True), "skill-history")
    assert "2024-01-05" in history
    assert _db.session.scalars(select(SkillEvidence.level).order_by(SkillEvidence.id)).all() == [
        2,
        4,
    ]


def test_manager_assessment_is_recorded_audited_and_seen_by_the_engineer(
    client,
    auth,
    org,
    skill_kit,  # noqa: ANN001
) -> None:
    bias = skill_kit.skill("bias")
    _db.session.commit()
    auth.login(org.manager.email)
    url = f"/engineers/{org.engineer.id}/skills"
    response = post_form(
        client,
        f"/engineers/{org.engineer.id}/assess",
        {"skill": bias.id, "level": 3},
        token_from=url,
    )
    assert response.status_code == 302
    assert _db.session.scalar(select(AuditEvent.action)) == "skill.manager_assessment"
    client.post("/logout", data={"csrf_token": ""})
    auth.logout()
    auth.login(org.engineer.email)
    history = table(client.get("/skills/history").get_data(as_text=True), "skill-history")
    assert "Manager assessment" in history and "Mia Manager" in history


def test_engineer_sees_exactly_what_their_manager_sees(client, auth, org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    skill_kit.evidence(org.engineer, bias, 3, "workshop", at=datetime.now(UTC) - timedelta(days=9))
    skill_kit.evidence(org.engineer, bias, 4, "self")
    _db.session.commit()
    auth.login(org.manager.email)
    as_manager = client.get(f"/engineers/{org.engineer.id}/skills").get_data(as_text=True)
    auth.logout()
    auth.login(org.engineer.email)
    preview = client.get("/skills/manager-view").get_data(as_text=True)
    strip = lambda t: re.sub(r'href="[^"]*"', "", t)  # noqa: E731 (export links differ by URL only)
    assert strip(table(preview, "my-skills")) == strip(table(as_manager, "my-skills"))
    assert strip(table(preview, "skill-history")) == strip(table(as_manager, "skill-history"))
    assert "score" not in table(as_manager, "my-skills").lower()


def test_a_pass_shows_the_hints_used_to_engineer_and_manager(client, auth, org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    passed = datetime.now(UTC) - timedelta(days=3)
    skill_kit.evidence(org.engineer, bias, 2, "self", at=passed - timedelta(days=9))
    earned = skill_kit.evidence(org.engineer, bias, 3, "workshop", at=passed)
    notebook_id = _db.session.get(Submission, earned.submission_id).notebook_id
    skill_kit.hints_revealed(org.engineer, notebook_id, [passed - timedelta(hours=1)] * 2)
    _db.session.commit()
    auth.login(org.engineer.email)
    assert hints_noted(client.get("/skills/history")) == ["· 2 hints used"]
    assert csv_rows(client.get("/skills/export.csv?table=history")) == [
        ["Bias", "3", "workshop", "2"],
        ["Bias", "2", "self", ""],
    ]
    auth.logout()
    auth.login(org.manager.email)
    theirs = f"/engineers/{org.engineer.id}/skills"
    assert hints_noted(client.get(theirs)) == ["· 2 hints used"]
    assert csv_rows(client.get(f"{theirs}/export.csv?table=history"))[0][-1] == "2"


def test_old_verification_is_flagged_with_the_workshop_that_reverifies(
    client,
    auth,
    org,
    skill_kit,  # noqa: ANN001
) -> None:
    bias = skill_kit.skill("bias")
    skill_kit.workshop("bias-basics", {bias.id: 3})
    skill_kit.evidence(
        org.engineer, bias, 3, "workshop", at=datetime.now(UTC) - timedelta(days=800)
    )
    _db.session.commit()
    auth.login(org.engineer.email)
    row = table(client.get("/skills").get_data(as_text=True), "my-skills")
    assert "Due for re-verification" in row and 'href="/workshops/bias-basics"' in row


def test_gaps_page_lists_gaps_and_a_path_in_prerequisite_order(
    client, auth, org, skill_kit
) -> None:  # noqa: ANN001
    bias, ops = skill_kit.skill("bias"), skill_kit.skill("ops")
    intro = skill_kit.workshop("intro", {bias.id: 1}, hours=2)
    skill_kit.workshop("deep", {bias.id: 3}, hours=3, requires=(intro.id,))
    skill_kit.workshop("ops-101", {ops.id: 2}, hours=1.5)
    p = Project(name="Churn", team_id=org.team.id, start_date=date(2025, 9, 1))
    p.requirements = [ProjectRequirement(skill_id=bias.id, min_level=3)]
    p.assignments = [ProjectAssignment(user_id=org.engineer.id)]
    profile = RoleProfile(name="Ops", targets=[RoleProfileSkill(skill_id=ops.id, level=2)])
    _db.session.add_all([p, profile])
    _db.session.commit()
    auth.login(org.engineer.email)
    page = client.get("/skills/gaps").get_data(as_text=True)
    assert "Project: Churn" in table(page, "gaps") and "Ops" not in table(page, "gaps")
    post_form(client, "/skills/target", {"profile": profile.id}, token_from="/skills/gaps")
    page = client.get("/skills/gaps").get_data(as_text=True)
    assert "Profile: Ops" in table(page, "gaps")
    path = re.findall(r'<li><a href="/workshops/([^"]+)"', page)
    assert path.index("intro") < path.index("deep") and "ops-101" in path
    assert "6.5 hours" in page
    assert re.search(r'href="/workshops/intro" data-testid="next-step"', page)


def test_matrix_heatmap_marks_verified_apart_and_exports_csv(
    client,
    auth,
    org,
    skill_kit,
    override_settings,  # noqa: ANN001
) -> None:
    override_settings(MIN_AGGREGATE_GROUP=2)
    bias = skill_kit.skill("bias")
    skill_kit.evidence(org.engineer, bias, 3, "workshop")
    skill_kit.evidence(org.teammate, bias, 2, "self")
    _db.session.commit()
    auth.login(org.manager.email)
    page = client.get(f"/teams/{org.team.id}/matrix").get_data(as_text=True)
    heatmap = table(page, "skill-matrix")
    assert "lvl-3 is-verified" in heatmap and "lvl-2 is-claimed" in heatmap
    assert re.search(r'data-testid="coverage-row">.*?1/1', heatmap, re.S)
    csv = client.get(f"/teams/{org.team.id}/matrix/export.csv")
    assert csv.headers["Content-Disposition"].startswith("attachment")
    assert csv.get_data(as_text=True).removeprefix("\ufeff").splitlines()[:3] == [
        "engineer,Bias",
        "Eve Engineer,3v",
        "Tom Teammate,2",
    ]


def test_matrix_project_filter_works_for_every_demo_project(client, auth, runner) -> None:  # noqa: ANN001
    assert runner.invoke(args=["demo"]).exit_code == 0
    for project in _db.session.scalars(select(Project)).all():
        [manager] = [m.user for m in project.team.memberships if m.is_manager]
        people = sorted(a.user.display_name for a in project.assignments)
        auth.login(manager.email, demo.DEMO_PASSWORD)
        base, query = f"/teams/{project.team_id}", f"?project={project.id}"
        page = client.get(f"{base}/matrix{query}")
        assert page.status_code == 200, project.name
        html = page.get_data(as_text=True)
        assert all(name in table(html, "skill-matrix") for name in people)
        assert f'/report?project={project.id}" data-testid="report-link"' in html
        export = client.get(f"{base}/matrix/export.csv{query}")
        assert export.status_code == 200
        rows = list(csv.reader(export.get_data(as_text=True).removeprefix("\ufeff").splitlines()))
        assert sorted(rows[0][1:]) == sorted(r.skill.name for r in project.requirements)
        assert sorted(row[0] for row in rows[1:]) == people
        report = client.get(f"{base}/report{query}")
        assert report.status_code == 200
        assert f"{project.team.name} · {project.name}</h1>" in report.get_data(as_text=True)
        assert all(name in table(report.get_data(as_text=True), "skill-matrix") for name in people)
        auth.logout()


def test_small_team_hides_aggregates(client, auth, org, skill_kit) -> None:  # noqa: ANN001
    skill_kit.evidence(org.engineer, skill_kit.skill("bias"), 3, "self")
    _db.session.commit()
    auth.login(org.manager.email)
    matrix = client.get(f"/teams/{org.team.id}/matrix").get_data(as_text=True)
    assert "groups of at least 3 engineers" in matrix
    trends = client.get(f"/teams/{org.team.id}/trends").get_data(as_text=True)
    assert "trend-data" not in trends and "at least 3 engineers" in trends


def test_bus_factor_warning_names_the_project_and_skill(client, auth, org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    p = Project(name="Fraud", team_id=org.team.id, start_date=date(2025, 9, 1))
    p.requirements = [ProjectRequirement(skill_id=bias.id, min_level=3)]
    _db.session.add(p)
    skill_kit.evidence(org.engineer, bias, 3, "workshop")
    _db.session.commit()
    auth.login(org.manager.email)
    warnings = table(
        client.get(f"/teams/{org.team.id}/matrix").get_data(as_text=True), "bus-factor"
    )
    assert "Fraud" in warnings and "Bias" in warnings
    csv = client.get(f"/teams/{org.team.id}/matrix/export.csv?table=bus-factor").get_data(
        as_text=True
    )
    assert csv.removeprefix("\ufeff").splitlines() == [
        "project,skill,min_level,verified_holders",
        "Fraud,Bias,3,1",
    ]


def test_trends_page_serves_chart_data_and_table(
    client,
    auth,
    org,
    skill_kit,
    override_settings,  # noqa: ANN001
) -> None:
    override_settings(MIN_AGGREGATE_GROUP=2)
    skill_kit.evidence(org.engineer, skill_kit.skill("bias"), 3, "workshop")
    _db.session.commit()
    auth.login(org.manager.email)
    page = client.get(f"/teams/{org.team.id}/trends").get_data(as_text=True)
    assert 'id="trend-data"' in page and "/static/build/chart/chart.umd.min.js" in page
    assert "<script>" not in page  # CSP: no inline code
    rows = (
        client.get(f"/teams/{org.team.id}/trends/export.csv")
        .get_data(as_text=True)
        .removeprefix("\ufeff")
        .splitlines()
    )
    assert len(rows) == 13 and rows[-1].split(",")[1] == "1"


def test_report_page_is_printable(client, auth, org, skill_kit) -> None:  # noqa: ANN001
    skill_kit.evidence(org.engineer, skill_kit.skill("bias"), 3, "self")
    _db.session.commit()
    auth.login(org.admin.email)
    page = client.get(f"/teams/{org.team.id}/report").get_data(as_text=True)
    assert "data-print" in page and "Eve Engineer" in table(page, "skill-matrix")


def test_manager_of_another_team_cannot_assess(client, auth, org, skill_kit) -> None:  # noqa: ANN001
    bias = skill_kit.skill("bias")
    _db.session.commit()
    auth.login(org.other_manager.email)
    response = post_form(
        client,
        f"/engineers/{org.engineer.id}/assess",
        {"skill": bias.id, "level": 3},
        token_from="/",
    )
    assert response.status_code == 403
    assert _db.session.scalar(select(SkillEvidence.id)) is None


def test_matrix_csv_cannot_smuggle_a_spreadsheet_formula(client, auth, org, skill_kit) -> None:  # noqa: ANN001
    skill_kit.evidence(org.engineer, skill_kit.skill("fairness"), 3)
    org.engineer.display_name = '=HYPERLINK("http://evil.example")'
    _db.session.commit()
    auth.login(org.manager.email)
    body = client.get(f"/teams/{org.team.id}/matrix/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body
    assert "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body
