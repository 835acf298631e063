"""Login, logout (a POST), and password change."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from webapp.auth import bp
from webapp.auth.forms import ChangePasswordForm, LoginForm
from webapp.db import db
from webapp.extensions import limiter
from webapp.services.errors import InvalidInput
from webapp.services.people import accounts
from webapp.settings import settings_of
from webapp.web.access import me, public, safe_next
from webapp.web.forms import EmptyForm

GENERIC_LOGIN_ERROR = "That email and password do not match an active account."


def _login_limit() -> str:
    return settings_of(current_app).login_rate_limit


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda r: r.status_code != 302)
def login() -> Response | str:
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = accounts.authenticate(
            db.session, email=form.email.data or "", password=form.password.data or ""
        )
        if user is not None:
            db.session.commit()
            login_user(user)
            flash(f"Welcome, {user.display_name}.", "success")
            return redirect(safe_next(form.next.data, url_for("main.home")))
        flash(GENERIC_LOGIN_ERROR, "danger")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if EmptyForm().validate_on_submit():
        logout_user()
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
        except InvalidInput as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash("Your password is changed.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)
