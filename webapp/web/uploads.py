"""Uploaded files: their bytes, and the larger limit of the CSV import pages."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

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
