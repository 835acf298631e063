"""CSV text for downloads: RFC 4180 quoting by the csv module, and no spreadsheet formulas.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (and is not a number) would run as a formula
when a manager opens the file in a spreadsheet; such cells get a leading apostrophe. Names and
notes come from users, so every export goes through here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with a header row; cells that a spreadsheet would run as formulas are quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_safe(cell) for cell in row])
    return out.getvalue()


def _safe(cell: object) -> object:
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@") and not _is_number(cell):
        return "'" + cell
    return cell


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
