"""Admin pages for a person's life after creation: edit, role, teams, deactivate and reactivate,
a password reset link, ending their sessions; and every API token in the organisation."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from webapp.admin import bp
from webapp.admin.forms import EditUserForm, MembershipForm
from webapp.db import db
from webapp.models import ApiToken, TeamMembership, User
from webapp.services.people import api_tokens, lifecycle, sessions
from webapp.web.access import me
from webapp.web.forms import EmptyForm, attempt


def _now() -> datetime:
    return datetime.now(UTC)


def _back(user_id: int) -> Response:
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int) -> Response | str:
    person = lifecycle.get_user(db.session, user_id)
    form = EditUserForm(obj=person)
    if form.validate_on_submit():
        saved = attempt(
            lambda: lifecycle.update_user(
                db.session,
                actor=me(),
                user_id=user_id,
                display_name=form.display_name.data or "",
                email=form.email.data or "",
                role=form.role.data or "",
                now=_now(),
            )
        )
        if saved is not None:
            flash(f"Saved {saved.display_name}.", "success")
            return _back(user_id)
    return render_template(
        "admin/user.html",
        person=person,
        form=form,
        team_form=MembershipForm(),
        button=EmptyForm(),
        memberships=db.session.query(TeamMembership).filter_by(user_id=user_id).all(),
        sessions=sessions.list_for(db.session, user_id, limit=20),
        tokens=api_tokens.list_tokens(db.session, user_id),
        now=_now(),
    )


def _set_active(user_id: int, active: bool) -> Response:
    if EmptyForm().validate_on_submit():
        done = attempt(
            lambda: lifecycle.set_active(
                db.session, actor=me(), user_id=user_id, active=active, now=_now()
            )
        )
        if done is not None and active:
            flash(f"Reactivated {done.display_name}; they can log in again.", "success")
        elif done is not None:
            flash(
                f"Deactivated {done.display_name}: their sessions are ended and API tokens "
                "revoked; their history stays.",
                "success",
            )
    return _back(user_id)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
def deactivate(user_id: int) -> Response:
    return _set_active(user_id, False)


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
def reactivate(user_id: int) -> Response:
    return _set_active(user_id, True)


@bp.route("/users/<int:user_id>/reset-link", methods=["POST"])
def reset_link(user_id: int) -> Response | str:
    if not EmptyForm().validate_on_submit():
        return _back(user_id)
    made = attempt(
        lambda: lifecycle.reset_token(
            db.session, actor=me(), user_id=user_id, secret=str(current_app.config["SECRET_KEY"])
        )
    )
    if made is None:
        return _back(user_id)
    person, token = made
    hours = int(current_app.config["PASSWORD_RESET_MAX_AGE_S"]) // 3600
    return render_template(
        "admin/reset_link.html",
        person=person,
        link=url_for("auth.reset_password", token=token, _external=True),
        hours=hours,
    )


@bp.route("/users/<int:user_id>/sign-out", methods=["POST"])
def sign_out_user(user_id: int) -> Response:
    if EmptyForm().validate_on_submit():
        ended = attempt(
            lambda: lifecycle.sign_out_everywhere(
                db.session, actor=me(), user_id=user_id, now=_now()
            )
        )
        if ended is not None:
            flash(f"Ended {ended} open {'session' if ended == 1 else 'sessions'}.", "success")
    return _back(user_id)


@bp.route("/users/<int:user_id>/teams", methods=["POST"])
def add_membership(user_id: int) -> Response:
    form = MembershipForm()
    if form.validate_on_submit():
        made = attempt(
            lambda: lifecycle.add_to_team(
                db.session,
                actor=me(),
                user_id=user_id,
                team_name=form.team.data or "",
                as_manager=bool(form.as_manager.data),
            )
        )
        if made is not None:
            flash(f"Added to {made.team.name}.", "success")
    else:
        flash("Give the team's name.", "danger")
    return _back(user_id)


@bp.route("/memberships/<int:membership_id>/remove", methods=["POST"])
def remove_membership(membership_id: int) -> Response:
    membership = db.session.get(TeamMembership, membership_id)
    user_id = membership.user_id if membership else None
    if EmptyForm().validate_on_submit():
        done = attempt(
            lambda: lifecycle.remove_from_team(db.session, actor=me(), membership_id=membership_id)
        )
        if done is not None:
            flash(f"Took {done[0].display_name} out of {done[1].name}.", "success")
    return _back(user_id) if user_id else redirect(url_for("admin.users"))


@bp.route("/tokens")
def tokens() -> str:
    rows = (
        db.session.query(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        .limit(500)
        .all()
    )
    return render_template("admin/tokens.html", rows=rows, button=EmptyForm())


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int) -> Response:
    if EmptyForm().validate_on_submit():
        done = attempt(lambda: api_tokens.revoke_token(db.session, token_id, actor=me()))
        if done is not None:
            flash(f"Revoked the token “{done.name}”.", "success")
    return redirect(url_for("admin.tokens"))
