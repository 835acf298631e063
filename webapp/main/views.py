"""The role-specific home page and a health check for load balancers."""

from __future__ import annotations

from flask import jsonify, render_template
from werkzeug.wrappers import Response

from webapp.db import db
from webapp.main import bp
from webapp.services.access import policy
from webapp.services.learning import overview
from webapp.web.access import me, public


@bp.route("/")
def home() -> str:
    user = me()
    context: dict[str, object] = {
        "progress": overview.engineer_progress(db.session, user.id),
        "evidence_count": overview.evidence_count(db.session, user.id),
    }
    if policy.is_manager_or_admin(user):
        context["teams"] = overview.team_rows(db.session, policy.team_scope(db.session, user))
    if policy.is_admin(user):
        context["counts"] = overview.organisation_counts(db.session)
    return render_template(f"main/home_{user.role}.html", **context)


@bp.route("/healthz")
@public
def health() -> Response:
    return jsonify(status="ok")
