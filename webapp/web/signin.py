"""Signing a browser in and out through the server-side session table (services/people/sessions).

Flask's signed cookie holds the user id (Flask-Login) and a random session token; the user is
signed in only while the token's row is open. Logging in clears the old cookie session first, so
a session id planted before login is never kept.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, request, session
from flask_login import login_user, logout_user

from webapp.db import db
from webapp.models import User
from webapp.services.people import sessions

KEY = "sid"


def _now() -> datetime:
    return datetime.now(UTC)


def sign_in(user: User) -> None:
    """Open a server-side session for the user and put its token in a fresh cookie session;
    commits."""
    session.clear()
    token = sessions.start(
        db.session,
        user,
        now=_now(),
        lifetime=current_app.permanent_session_lifetime,
        user_agent=request.user_agent.string or "",
        address=request.remote_addr or "",
    )
    db.session.commit()
    session.permanent = True
    login_user(user)
    session[KEY] = token


def sign_out() -> None:
    """End this browser's server-side session and clear its cookie session; commits."""
    token = session.get(KEY)
    if token:
        sessions.end(db.session, token, now=_now())
        db.session.commit()
    logout_user()
    session.clear()


def current_session_id() -> int | None:
    return sessions.current_id(db.session, session.get(KEY))


def user_of_request(user_id: int) -> User | None:
    """Flask-Login's user loader: the active user whose open session this cookie names."""
    token = session.get(KEY)
    if not token:
        return None
    user = sessions.resolve(db.session, token, user_id, now=_now())
    if user is not None and db.session.dirty:
        db.session.commit()  # last seen: nothing else is pending this early in a request
    return user
