"""Forms every blueprint shares, and the one way a view runs a service behind a form."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash
from flask_wtf import FlaskForm

from webapp.db import db
from webapp.services.errors import DomainError

T = TypeVar("T")


class EmptyForm(FlaskForm):
    """Only the CSRF token: for buttons that change state (log out, sync now, revoke, delete)."""


def attempt(action: Callable[[], T]) -> T | None:
    """Run a service for a submitted form and commit; on a DomainError roll back, flash the
    reason and return None, so nothing is half-stored and the form is shown again."""
    try:
        result = action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return None
    db.session.commit()
    return result
