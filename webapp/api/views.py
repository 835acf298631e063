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
from webapp.api.auth import require_scope
from webapp.db import db
from webapp.services.access import policy
from webapp.services.errors import NotFound
from webapp.services.learning import engineer_view, overview
from webapp.services.planning import runs
from webapp.services.skills import pages
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
    require_scope("skills")
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
            "verified": {
                matrix.skills[j].code: int(matrix.verified[i, j])
                for j in range(len(matrix.skills))
                if matrix.verified[i, j]
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
    require_scope("staffing")
    _managers_only()
    rows = gaps.gaps(db.session, viewer=me(), team_ids=policy.team_scope(db.session, me()))
    return jsonify(requirements=[_gap_json(g) for g in rows])


@bp.route("/projects/<int:project_id>/gaps")
def project_gaps(project_id: int) -> Response:
    require_scope("staffing")
    _managers_only()
    project = records.get_project(db.session, project_id, me())
    rows = gaps.gaps(db.session, viewer=me(), project_ids=[project.id])
    return jsonify(
        project_id=project.id, name=project.name, requirements=[_gap_json(g) for g in rows]
    )


@bp.route("/teams/<int:team_id>/plan")
def team_plan(team_id: int) -> Response:
    """The team's newest stored plan (plans are computed by a worker, never by this request)."""
    require_scope("plans")
    _managers_only()
    require_team_view(team_id)
    run = runs.latest(db.session, team_id)
    if run is None:
        raise NotFound(
            "No plan has been computed for this team yet: compute one on the team's plan page "
            "or with `skillforge staffing plan --team`."
        )
    report = runs.report_of(run)
    body = report.plan.to_json()
    body["plan_id"] = run.id
    body["current"] = runs.is_current(db.session, run)
    body["verified_only"] = run.verified_only
    body["explanations"] = [line.sentence for line in report.lines]
    body["unfilled_explanations"] = [u.sentence for u in report.unfilled]
    body["workshop_impact"] = [
        {
            "workshop_id": i.workshop_id,
            "title": i.title,
            "engineers": i.engineers,
            "names": list(i.names),
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
    """What the engineer's skill page shows the caller; scores and attempts only to the engineer
    themself and admins, as on the pages."""
    require_scope("skills")
    require_engineer_view(user_id)
    view = engineer_view.load(
        db.session, user_id, now=datetime.now(UTC), settings=settings_of(current_app).estimates
    )
    if policy.can_view_scores(me(), user_id):
        workshops = [_progress_json(p) for p in overview.engineer_progress(db.session, user_id)]
    else:
        workshops = [_pass_json(p) for p in view.passes]
    return jsonify(
        user_id=user_id,
        workshops=workshops,
        skills=[_skill_json(r) for r in view.rows],
        history=[_history_json(h) for h in view.history],
    )


def _workshop_json(slug: str, title: str, passed_at: datetime | None) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "state": "passed" if passed_at else "in progress",
        "passed_at": passed_at.isoformat() if passed_at else None,
    }


def _progress_json(p: overview.ProgressRow) -> dict[str, Any]:
    """A workshop with its attempts and best score: for the engineer themself and admins."""
    scores = {"attempts": p.attempts, "best_score": p.best_score}
    return _workshop_json(p.workshop_slug, p.workshop_title, p.passed_at) | scores


def _pass_json(p: engineer_view.WorkshopPass) -> dict[str, Any]:
    return _workshop_json(p.workshop_slug, p.workshop_title, p.passed_at)


def _skill_json(r: pages.MySkillRow) -> dict[str, Any]:
    e = r.estimate
    return {
        "skill_id": r.skill.id,
        "skill_code": r.skill.code,
        "skill": r.skill.name,
        "level": e.level,
        "claimed_level": e.claimed_level,
        "verified_level": e.verified_level,
        "source": e.source,
        "recorded_at": e.recorded_at.isoformat(),
        "confidence": e.confidence,
        "due_for_reverification": e.due_for_reverification,
    }


def _history_json(h: pages.HistoryEntry) -> dict[str, Any]:
    return {
        "skill_id": h.skill_id,
        "skill": h.skill_name,
        "level": h.level,
        "source": h.source,
        "recorded_at": h.recorded_at.isoformat(),
        "recorded_by": h.recorded_by,
        "note": h.note,
    }
