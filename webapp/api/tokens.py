"""The user's API tokens: create (the secret is shown once), list and revoke."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from webapp.api import tokens_bp
from webapp.api.forms import TokenForm
from webapp.db import db
from webapp.services.people import api_tokens
from webapp.web.access import me
from webapp.web.forms import EmptyForm, attempt
from webapp.web.limits import limited


@tokens_bp.route("/", methods=["GET", "POST"])
@limited("TOKEN_RATE_LIMIT")
def index() -> str:
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        created = attempt(
            lambda: api_tokens.create_token(
                db.session,
                actor=me(),
                name=form.name.data or "",
                scopes=form.scopes.data or [],
                days=int(form.days.data or 0),
            )
        )
        if created is not None:
            secret = created.secret
            form = TokenForm(formdata=None)
    return render_template(
        "api/tokens.html",
        form=form,
        revoke=EmptyForm(),
        secret=secret,
        tokens=api_tokens.list_tokens(db.session, me().id),
        scopes=api_tokens.SCOPES,
    )


@tokens_bp.route("/<int:token_id>/revoke", methods=["POST"])
def revoke(token_id: int) -> Response:
    token = api_tokens.revoke_token(db.session, token_id, actor=me())
    db.session.commit()
    flash(f"Revoked “{token.name}”: it no longer works.", "success")
    return redirect(url_for("api_tokens.index"))
