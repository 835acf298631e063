"""`flask staffing plan` and the large demo organisation."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from tests.conftest import Org
from tests.services.planning.capacity_checker import check_plan
from tests.staffing_factories import make_levels, make_project, make_skill, make_workshop
from webapp.db import db as _db
from webapp.models import PlanRun, Project, SkillEvidence, User
from webapp.seed import bigorg
from webapp.services.planning import decompose, plan
from webapp.services.planning.optimiser import Plan
from webapp.services.staffing import gaps
from webapp.settings import settings_of


def test_plan_prints_json_with_the_documented_keys(runner: FlaskCliRunner, org: Org) -> None:
    make_levels()
    skill = make_skill("ml", "Modelling")
    make_workshop("ml-competent", skill, 3, hours=4)
    make_project(org.team, needs=((skill, 3, 1),), people=(org.engineer,))
    _db.session.commit()
    result = runner.invoke(args=["staffing", "plan", "--team", "Applied ML", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert {
        "objective",
        "gap",
        "training_hours",
        "unfilled_slots",
        "assignments",
        "training",
    } <= set(plan)
    assert plan["training_hours"] == 4 and plan["unfilled_slots"] == 0
    assert "Solving for 2 engineers and 1 requirement (at most" in result.stderr
    # kept as the team's newest plan, so its plan page shows it and its lines can be accepted
    stored = _db.session.scalars(select(PlanRun).where(PlanRun.team_id == org.team.id)).one()
    assert (stored.status, stored.training_hours, stored.requested_by_id) == ("done", 4, None)


def test_plan_in_words_and_unknown_team(runner: FlaskCliRunner, org: Org) -> None:
    make_levels()
    skill = make_skill("ml", "Modelling")
    make_project(org.team, needs=((skill, 3, 1),))
    _db.session.commit()
    result = runner.invoke(args=["staffing", "plan"])
    assert result.exit_code == 0, result.output
    assert "Churn model still lacks 1 person at Competent in Modelling" in result.stdout
    missing = runner.invoke(args=["staffing", "plan", "--team", "Nope"])
    assert missing.exit_code != 0 and "No team 'Nope'" in missing.output


def test_big_org_is_built_once_with_evidence_projects_and_gaps(db: object) -> None:
    summary = bigorg.build_big_org(
        _db.session, engineers=60, skills=12, projects=8, password_hash="x", seed=3
    )
    again = bigorg.build_big_org(
        _db.session, engineers=60, skills=12, projects=8, password_hash="x", seed=3
    )
    assert summary.created and not again.created
    assert (summary.teams, summary.engineers, summary.projects) == (3, 60, 8)
    count = _db.session.scalar(select(func.count()).select_from(SkillEvidence))
    assert count == summary.evidence and 60 * 10 <= count <= 60 * 30
    assert _db.session.scalar(select(func.count()).select_from(User)) == 63
    assert _db.session.scalar(select(func.count()).select_from(Project)) == 8
    rows = gaps.gaps(_db.session, viewer=None)
    assert len(rows) == summary.requirements
    assert any(g.qualified for g in rows) and any(g.missing for g in rows)


def test_per_team_plan_adds_up_each_teams_plan(runner: FlaskCliRunner, org: Org) -> None:
    make_levels()
    skill = make_skill("ml", "Modelling")
    make_workshop("ml-competent", skill, 3, hours=4)
    make_project(org.team, needs=((skill, 3, 1),))
    make_project(org.other_team, "Platform work", needs=((skill, 3, 1),))
    _db.session.commit()
    result = runner.invoke(args=["staffing", "plan", "--per-team", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert [t["team_id"] for t in plan["teams"]] == sorted([org.team.id, org.other_team.id])
    assert (plan["status"], plan["training_hours"], plan["unfilled_slots"]) == ("optimal", 8, 0)
    assert len(plan["assignments"]) == 2


def test_the_organisation_plan_in_parts_keeps_every_rule_and_beats_the_teams_own(
    runner: FlaskCliRunner, db: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    bigorg.build_big_org(_db.session, engineers=60, skills=12, projects=8, password_hash="x")
    _db.session.commit()
    monkeypatch.setattr(decompose, "WHOLE_MODEL_MAX_PAIRS", 0)  # as for thousands of engineers
    whole = runner.invoke(args=["staffing", "plan", "--json", "--time-limit", "20"])
    assert whole.exit_code == 0, whole.output
    body = json.loads(whole.stdout)
    assert body["status"] in ("optimal", "bounded") and body["gap"] is not None
    inputs = plan.load_inputs(_db.session, None)
    assert len(inputs.parts) == 3  # the three teams
    settings = replace(settings_of(runner.app).plan_for(), time_limit_s=20)
    found = Plan.from_json(body)
    assert (
        check_plan(inputs.engineers, inputs.workshops, inputs.requirements, settings, found) == []
    )
    per_team = runner.invoke(args=["staffing", "plan", "--per-team", "--json"])
    assert body["objective"] <= json.loads(per_team.stdout)["objective"] + 1e-6
    assert body["unfilled_slots"] < sum(r.headcount for r in inputs.requirements)
