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
    found = api_tokens.authenticate_token(db.session, secret.strip())
    if found is None:
        return None
    token, user = found
    db.session.commit()  # keeps last_used_at; nothing else is pending this early
    g.api_user_id, g.api_scopes = user.id, set(token.scopes or api_tokens.SCOPES)
    return user


def require_scope(scope: str) -> None:
    """403, naming the scope, unless the request's token was made to read it."""
    if scope not in g.get("api_scopes", set()):
        abort(
            403,
            f"This token may not read {api_tokens.SCOPES[scope].lower()}: create a token "
            f"with the “{scope}” scope on the API tokens page.",
        )


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
