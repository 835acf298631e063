"""Login, logout (a POST), password change and reset, and the user's own sessions."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from webapp.auth import bp
from webapp.auth.forms import ChangePasswordForm, LoginForm, ResetPasswordForm
from webapp.db import db
from webapp.extensions import limiter
from webapp.services.errors import InvalidInput
from webapp.services.people import accounts, lifecycle, sessions, throttle
from webapp.services.words import count
from webapp.settings import settings_of
from webapp.web import devices, signin
from webapp.web.access import me, public, safe_next
from webapp.web.forms import EmptyForm, attempt

GENERIC_LOGIN_ERROR = "That email and password do not match an active account."


def _login_limit() -> str:
    return settings_of(current_app).login_rate_limit


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda r: r.status_code != 302)
def login() -> Response | str | tuple[str, int]:
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        email = form.email.data or ""
        keys = _throttle_keys(email)
        now = datetime.now(UTC)
        wait = throttle.wait_s(db.session, keys, now=now)
        if wait > 0:
            return _held_back(form, wait)
        user = accounts.authenticate(db.session, email=email, password=form.password.data or "")
        if user is not None:
            throttle.succeeded(db.session, keys)
            db.session.commit()
            signin.sign_in(user)
            flash(f"Welcome, {user.display_name}.", "success")
            response = redirect(safe_next(form.next.data, url_for("main.home")))
            devices.remember(response, request, user.id)
            return response
        throttle.failed(db.session, keys, now=now, policy=_policy())
        db.session.commit()
        flash(GENERIC_LOGIN_ERROR, "danger")
    return render_template("auth/login.html", form=form)


def _policy() -> throttle.Policy:
    return throttle.Policy(
        free=int(current_app.config["LOGIN_BACKOFF_FREE_FAILURES"]),
        base_delay_s=float(current_app.config["LOGIN_BACKOFF_BASE_S"]),
        max_delay_s=float(current_app.config["LOGIN_BACKOFF_MAX_S"]),
    )


def _throttle_keys(email: str) -> list[str]:
    """This client's key, and the account's unless this browser logged in to it before."""
    keys = [throttle.client_key(request.remote_addr or "unknown")]
    user = accounts.find_by_email(db.session, email)
    if user is None or user.id not in devices.trusted_ids(request):
        keys.append(throttle.account_key(email))
    return keys


def _held_back(form: LoginForm, wait: float) -> tuple[str, int]:
    seconds = max(1, math.ceil(wait))
    flash(
        f"Too many failed attempts for this account or from this address: wait "
        f"{count(seconds, 'second')}, then try again. A browser you logged in with before is not "
        "held back by other people's attempts.",
        "danger",
    )
    return render_template("auth/login.html", form=form), 429


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if EmptyForm().validate_on_submit():
        signin.sign_out()
        flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                db.session, user=me(), current=form.current.data or "", new=form.new.data or ""
            )
            sessions.end_all(
                db.session,
                me().id,
                now=datetime.now(UTC),
                why="password",
                keep=signin.current_session_id(),
            )
        except InvalidInput as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash("Your password is changed; your other sessions are signed out.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)


def _reset_settings() -> dict[str, object]:
    return {
        "secret": str(current_app.config["SECRET_KEY"]),
        "max_age_s": int(current_app.config["PASSWORD_RESET_MAX_AGE_S"]),
    }


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> Response | tuple[str, int] | str:
    """Set a new password through the one-time link an admin made; signs out everywhere."""
    return _set_password(token, invitation=False)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def invitation(token: str) -> Response | tuple[str, int] | str:
    """A new person (from a roster import) chooses their first password through their link."""
    return _set_password(token, invitation=True)


def _set_password(token: str, *, invitation: bool) -> Response | tuple[str, int] | str:
    settings = _reset_settings()
    if invitation:
        settings["max_age_s"] = int(current_app.config["INVITATION_MAX_AGE_S"])
    try:
        person = lifecycle.user_of_reset(db.session, token, invitation=invitation, **settings)  # type: ignore[arg-type]
    except InvalidInput as exc:
        return render_template("auth/reset.html", problem=exc.message, form=None), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        done = attempt(
            lambda: lifecycle.reset_password(
                db.session,
                token=token,
                new=form.new.data or "",
                now=datetime.now(UTC),
                invitation=invitation,
                **settings,  # type: ignore[arg-type]
            )
        )
        if done is not None:
            signin.sign_out()
            flash("Your password is set. Log in with it.", "success")
            return redirect(url_for("auth.login"))
    return render_template(
        "auth/reset.html", problem=None, form=form, person=person, invitation=invitation
    )


@bp.route("/account/sessions")
def my_sessions() -> str:
    return render_template(
        "auth/sessions.html",
        rows=sessions.list_for(db.session, me().id),
        current=signin.current_session_id(),
        now=datetime.now(UTC),
        ended=sessions.ENDED,
        button=EmptyForm(),
    )


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
def end_session(session_id: int) -> Response:
    this_one = session_id == signin.current_session_id()
    if EmptyForm().validate_on_submit():
        done = attempt(
            lambda: sessions.end_one(
                db.session, user=me(), session_id=session_id, now=datetime.now(UTC)
            )
        )
        if done is not None and this_one:
            signin.sign_out()
            flash("This session is signed out.", "info")
            return redirect(url_for("auth.login"))
        if done is not None:
            flash("That session is signed out.", "success")
    return redirect(url_for("auth.my_sessions"))


@bp.route("/account/sessions/sign-out-everywhere", methods=["POST"])
def sign_out_everywhere() -> Response:
    """End every session of the user, this one included."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.my_sessions"))
    sessions.end_all(db.session, me().id, now=datetime.now(UTC), why="everywhere")
    db.session.commit()
    signin.sign_out()
    flash("You are signed out everywhere, here included.", "info")
    return redirect(url_for("auth.login"))
