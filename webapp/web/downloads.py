"""File downloads shared by the blueprints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote

from flask import Response

from webapp.services.tabular import to_csv


def attachment(response: Response, filename: str) -> Response:
    """Mark a response as a download named ``filename`` (RFC 6266): an ASCII ``filename`` for
    old clients (quotes, backslashes and control characters replaced) and the exact UTF-8 name
    in ``filename*``; a name can never break out of the header."""
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    response.headers.set(
        "Content-Disposition",
        "attachment",
        filename=plain or "download",
        **{"filename*": "UTF-8''" + quote(filename, safe="")},
    )
    return response


def csv_download(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Response:
    """A CSV attachment (UTF-8 with a BOM, so spreadsheets read accents right)."""
    return csv_text_download(to_csv(header, rows), filename)


def csv_text_download(text: str, filename: str) -> Response:
    return attachment(Response("\ufeff" + text, mimetype="text/csv"), filename)
