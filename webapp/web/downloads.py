"""File downloads shared by the blueprints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Response

from webapp.services.tabular import to_csv


def csv_download(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Response:
    """A CSV attachment (UTF-8 with a BOM, so spreadsheets read accents right)."""
    return csv_text_download(to_csv(header, rows), filename)


def csv_text_download(text: str, filename: str) -> Response:
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
