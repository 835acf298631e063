"""API endpoints: skill matrix per team, gaps per project, training plans, engineer progress.

The same rules as the pages: engineers read their own progress; managers their teams' data;
admins everything. Errors are JSON (``webapp.web.errors`` answers JSON under /api/).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Response, current_app, jsonify, request

from webapp.api import bp
from webapp.db import db
from webapp.services.access import policy
from webapp.services.learning import overview
from webapp.services.planning import plan
from webapp.services.skills import estimates, pages
from webapp.services.staffing import gaps, records
from webapp.services.staffing.gaps import RequirementGap
from webapp.settings import settings_of
from webapp.web.access import me, public, require_engineer_view, require_team_view

OPENAPI = Path(__file__).with_name("openapi.json")


@bp.route("/openapi.json")
@public
def openapi() -> Response:
    return jsonify(json.loads(OPENAPI.read_text(encoding="utf-8")))


def _managers_only() -> None:
    policy.require_manager(me(), "use the team endpoints")


@bp.route("/teams")
def teams() -> Response:
    _managers_only()
    rows = overview.team_rows(db.session, policy.team_scope(db.session, me()))
    return jsonify(teams=[{"id": t.id, "name": t.name, "engineers": t.engineers} for t in rows])


@bp.route("/teams/<int:team_id>/matrix")
def team_matrix(team_id: int) -> Response:
    _managers_only()
    require_team_view(team_id)
    settings = settings_of(current_app)
    matrix = pages.team_matrix(
        db.session,
        team_id,
        pages.MatrixQuery(show_all=request.args.get("all") == "1"),
        now=datetime.now(UTC),
        settings=settings.estimates,
        bus_factor_min=settings.bus_factor_min,
        min_group=settings.min_aggregate_group,
    )
    engineers = [
        {
            "id": uid,
            "name": name,
            "levels": {
                matrix.skills[j].code: int(matrix.levels[i, j])
                for j in range(len(matrix.skills))
                if matrix.levels[i, j]
            },
        }
        for i, (uid, name) in enumerate(matrix.engineers)
    ]
    return jsonify(
        team_id=team_id,
        skills=[{"id": s.id, "code": s.code, "name": s.name} for s in matrix.skills],
        engineers=engineers,
    )


def _gap_json(g: RequirementGap) -> dict[str, Any]:
    r = g.req
    return {
        "requirement_id": r.id,
        "project_id": r.project_id,
        "project": r.project_name,
        "team": r.team_name,
        "start_date": r.start_date.isoformat(),
        "skill_id": r.skill_id,
        "skill": r.skill_name,
        "min_level": r.min_level,
        "headcount": r.headcount,
        "importance": r.importance,
        "qualified": g.qualified,
        "missing": g.missing,
        "level_shortfall": g.shortfall,
        "not_counted": g.not_counted,
    }


@bp.route("/projects/gaps")
def all_gaps() -> Response:
    _managers_only()
    rows = gaps.gaps(db.session, viewer=me(), team_ids=policy.team_scope(db.session, me()))
    return jsonify(requirements=[_gap_json(g) for g in rows])


@bp.route("/projects/<int:project_id>/gaps")
def project_gaps(project_id: int) -> Response:
    _managers_only()
    project = records.get_project(db.session, project_id, me())
    rows = gaps.gaps(db.session, viewer=me(), project_ids=[project.id])
    return jsonify(
        project_id=project.id, name=project.name, requirements=[_gap_json(g) for g in rows]
    )


@bp.route("/teams/<int:team_id>/plan")
def team_plan(team_id: int) -> Response:
    """The team's plan: the cached one for the current data, else solved now (time-limited)."""
    _managers_only()
    require_team_view(team_id)
    settings = settings_of(current_app)
    _, report = plan.cached_or_solve(
        db.session,
        team_id,
        settings.plan_for(),
        solve_now=True,
        what_if_time_s=settings.plan_what_if_s,
    )
    assert report is not None
    body = report.plan.to_json()
    body["explanations"] = [line.sentence for line in report.lines]
    body["unfilled_explanations"] = [u.sentence for u in report.unfilled]
    body["workshop_impact"] = [
        {
            "workshop_id": i.workshop_id,
            "title": i.title,
            "engineers": i.engineers,
            "slots_closed": i.slots_closed,
            "share": i.share,
            "text": i.describe(),
        }
        for i in report.impacts
    ]
    body["computed_at"] = report.computed_at.isoformat()
    return jsonify(team_id=team_id, **body)


@bp.route("/engineers/<int:user_id>/progress")
def engineer_progress(user_id: int) -> Response:
    require_engineer_view(user_id)
    progress = overview.engineer_progress(db.session, user_id)
    levels = estimates.load_estimates(
        db.session, user_ids=[user_id], settings=settings_of(current_app).estimates
    )
    return jsonify(
        user_id=user_id,
        workshops=[
            {
                "slug": p.workshop_slug,
                "title": p.workshop_title,
                "attempts": p.attempts,
                "best_score": p.best_score,
                "passed_at": p.passed_at.isoformat() if p.passed_at else None,
            }
            for p in progress
        ],
        skills=[
            {
                "skill_id": e.skill_id,
                "level": e.level,
                "source": e.source,
                "verified_level": e.verified_level,
                "confidence": e.confidence,
            }
            for e in sorted(levels.values(), key=lambda e: e.skill_id)
        ],
    )
