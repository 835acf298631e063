"""Token authentication for /api/: the request loader and the blueprint's guard."""

from __future__ import annotations

from flask import abort, current_app, g, request
from flask.blueprints import BlueprintSetupState
from flask_login import current_user

from webapp.api import bp
from webapp.db import db
from webapp.extensions import login_manager
from webapp.models import User
from webapp.services.people import api_tokens


def user_from_token(_request: object) -> User | None:
    """Flask-Login request loader: the owner of the bearer token on /api/ requests."""
    if not request.path.startswith("/api/"):
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    user = api_tokens.authenticate(db.session, secret.strip())
    if user is not None:
        db.session.commit()  # keeps last_used_at; nothing else is pending this early
        g.api_user_id = user.id
    return user


@bp.record_once
def install_loader(state: BlueprintSetupState) -> None:
    login_manager.request_loader(user_from_token)


@bp.before_request
def require_token() -> None:
    """Only token-authenticated requests reach the API (the OpenAPI document is public)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "is_public", False):
        return
    if not current_user.is_authenticated or g.get("api_user_id") != current_user.id:
        abort(401)
