"""Access rules for the web layer: default deny, named role decorators, and object checks.

Every endpoint needs a logged-in user unless its view is marked ``@public``; the check runs in
the app's ``before_request``, so a new blueprint cannot forget it. Role and object rules abort with
403 through the one policy in ``webapp.services.access.policy``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.db import db
from webapp.models import User
from webapp.services.access import policy

F = TypeVar("F", bound=Callable[..., Any])


def public(view: F) -> F:
    """Mark a view as reachable without logging in."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def enforce_login() -> Response | None:
    """``before_request`` hook: anonymous users go to the login page, except on public views."""
    if request.endpoint is None:  # 404s and 405s: let Flask answer
        return None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "is_public", False) or request.endpoint.endswith("static"):
        return None
    if current_user.is_authenticated:
        return None
    if request.path.startswith("/api/"):
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _role_rule(rule: Callable[[User], None]) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            rule(me())
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


# Named role rules over the one policy; each raises PermissionDenied (a 403 saying what to do).
admin_required = _role_rule(policy.require_admin)
manager_required = _role_rule(policy.require_manager)


def me() -> User:
    """The logged-in user as a model instance (views only run for logged-in users)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def require_team_view(team_id: int) -> None:
    """Raise PermissionDenied unless the current user may see the team's skill data and reports."""
    policy.require_team_view(db.session, me(), team_id)


def require_engineer_view(engineer_id: int) -> None:
    """Raise PermissionDenied unless the current user may see this engineer's data."""
    policy.require_engineer_view(db.session, me(), engineer_id)


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a same-site relative path, otherwise ``default``."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default  # a line break would split the Location header
    return target
