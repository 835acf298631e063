"""The user's API tokens: create (the secret is shown once), list and revoke."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from webapp.access import me
from webapp.api import tokens_bp
from webapp.api.forms import RevokeForm, TokenForm
from webapp.extensions import db
from webapp.services import api_tokens
from webapp.services.errors import DomainError


@tokens_bp.route("/", methods=["GET", "POST"])
def index() -> str:
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        try:
            created = api_tokens.create_token(db.session, actor=me(), name=form.name.data or "")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            secret = created.secret
            form = TokenForm(formdata=None)
    return render_template(
        "api/tokens.html",
        form=form,
        revoke=RevokeForm(),
        secret=secret,
        tokens=api_tokens.list_tokens(db.session, me().id),
    )


@tokens_bp.route("/<int:token_id>/revoke", methods=["POST"])
def revoke(token_id: int) -> Response:
    token = api_tokens.revoke_token(db.session, token_id, actor=me())
    db.session.commit()
    flash(f"Revoked “{token.name}”: it no longer works.", "success")
    return redirect(url_for("api_tokens.index"))
