"""CSV text for downloads: RFC 4180 quoting by the csv module, and no spreadsheet formulas.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (and is not a
number) would run as a formula when a manager opens the file in a spreadsheet; such cells, header
cells included, get a leading apostrophe. Names and notes come from users, so every export goes
through here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with a header row; cells that a spreadsheet would run as formulas are quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_safe(h) for h in headers])
    for row in rows:
        writer.writerow([_safe(cell) for cell in row])
    return out.getvalue()


def _safe(cell: object) -> object:
    if isinstance(cell, str) and cell[:1] in FORMULA_STARTS and not _is_number(cell):
        return "'" + cell
    return cell


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class CsvUnreadable(ValueError):
    """A CSV upload that cannot be read; the message says what to fix."""


def records(text: str) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """The lower-cased, stripped header and every (line, record) of a CSV upload (a BOM is
    ignored). Raises CsvUnreadable when a field is over the csv module's limit or the quoting is
    broken, instead of letting csv.Error escape."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        found = [(reader.line_num, record) for record in reader]
    except csv.Error as exc:
        limit_kb = csv.field_size_limit() // 1024
        raise CsvUnreadable(
            f"Line {reader.line_num} cannot be read ({exc}): a field may be longer than the "
            f"{limit_kb} KB a CSV field can hold, or a quote is not closed. Fix the file and "
            "upload it again."
        ) from None
    return header, found
