"""The role-specific home page and a health check for load balancers."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, jsonify, render_template
from werkzeug.wrappers import Response

from webapp.db import db
from webapp.main import bp
from webapp.main.health import readiness
from webapp.models import Role
from webapp.services.access import policy
from webapp.services.learning import overview
from webapp.services.planning import assignments
from webapp.services.skills import learning_path
from webapp.settings import settings_of
from webapp.web.access import me, public


@bp.route("/")
def home() -> str:
    user = me()
    context: dict[str, object] = {
        "progress": overview.engineer_progress(db.session, user.id),
        "evidence_count": overview.evidence_count(db.session, user.id),
    }
    if user.role == Role.ENGINEER.value:
        context["assigned"] = assignments.rows(
            db.session, today=datetime.now(UTC).date(), user_id=user.id
        )
        context["next_exercise"] = overview.next_exercise(db.session, user.id)
        context["gap_step"] = learning_path.biggest_gap_workshop(
            db.session,
            user_id=user.id,
            profile_id=user.target_profile_id,
            now=datetime.now(UTC),
            settings=settings_of(current_app).estimates,
        )
    if policy.is_manager_or_admin(user):
        context["teams"] = overview.team_rows(db.session, policy.team_scope(db.session, user))
    if policy.is_admin(user):
        context["counts"] = overview.organisation_counts(db.session)
    return render_template(f"main/home_{user.role}.html", **context)


@bp.route("/healthz")
@public
def health() -> Response:
    """Liveness: the process answers requests (restart it when this fails)."""
    return jsonify(status="ok")


@bp.route("/readyz")
@public
def ready() -> tuple[Response, int]:
    """Readiness: every part a request may need answers (send no traffic while it is 503)."""
    checks = readiness(current_app)
    ok = all(c.ok for c in checks if c.required)
    answer = jsonify(
        status="ready" if ok else "unavailable",
        checks={
            c.name: {"ok": c.ok, "detail": c.detail, **({} if c.required else {"required": False})}
            for c in checks
        },
    )
    answer.headers["Cache-Control"] = "no-store"
    return answer, 200 if ok else 503
