"""Uploaded files: read them as text, and run an all-or-nothing import over them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, flash, request

from webapp.db import db
from webapp.services.errors import DomainError, RowErrors

T = TypeVar("T")


# The pages that take a CSV import, which may be larger than other uploads (IMPORT_MAX_BYTES).
IMPORT_ENDPOINTS = frozenset({"admin.import_roster", "staffing.import_csv"})


def allow_larger_imports() -> None:
    """Before anything reads the request body (CSRF checks read the form): the import pages
    take files up to IMPORT_MAX_BYTES, every other request MAX_CONTENT_LENGTH."""
    if request.endpoint in IMPORT_ENDPOINTS:
        request.max_content_length = int(current_app.config["IMPORT_MAX_BYTES"])


def upload_bytes(file: Any) -> bytes:
    """The uploaded file's bytes, as sent: a CSV import decodes them itself (``tabular.decode``
    tells UTF-8, UTF-16 and Windows-1252 apart, or refuses the file naming why)."""
    return bytes(file.read())


def run_import(action: Callable[[], T]) -> tuple[T | None, list[tuple[int, str]] | None]:
    """Run an import service: commit when it succeeds; otherwise roll back, flash the reason and
    return the bad rows (line, message) for the page to list (an empty list when the file as a
    whole was refused), so the page answers 400. Nothing is half-stored."""
    try:
        result = action()
    except RowErrors as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return None, exc.errors
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return None, []
    db.session.commit()
    return result, None
