"""CSV text for downloads: RFC 4180 quoting by the csv module, and no spreadsheet formulas.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (and is not a
number) would run as a formula when a manager opens the file in a spreadsheet; such cells, header
cells included, get a leading apostrophe. Names and notes come from users, so every export goes
through here.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Collection, Iterable, Sequence

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


SAVE_AS_UTF8 = "Save it as “CSV UTF-8” (in Excel: File › Save As › CSV UTF-8) and upload it again."
DELIMITERS = ",;\t"


def decode(data: bytes | str) -> str:
    """The text of an uploaded CSV file, decoded without guessing: UTF-8 (with or without a
    BOM), UTF-16 or UTF-32 (with a BOM, or UTF-16 without one, told by its NUL bytes), else
    Windows-1252 (what Excel writes as plain "CSV" on Windows). Raises CsvUnreadable naming the
    byte that none of them reads, instead of storing replacement characters."""
    if isinstance(data, str):
        return data
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return _strict(data, codec, codec.upper().replace("-SIG", " with a BOM"))
    head = data[:4096]
    if len(head) >= 2 and head.count(0) * 3 >= len(head):  # text of two-byte characters
        codec = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        return _strict(data, codec, "UTF-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CsvUnreadable(
            f"The file is not text in UTF-8, UTF-16 or Windows-1252: byte 0x{data[exc.start]:02X} "
            f"at position {exc.start + 1} is not a character in any of them. {SAVE_AS_UTF8}"
        ) from None


def _strict(data: bytes, codec: str, name: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise CsvUnreadable(
            f"The file starts as {name} text but byte {exc.start + 1} is not {name}. {SAVE_AS_UTF8}"
        ) from None


def records(
    data: bytes | str, columns: Collection[str] | None = None
) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """The lower-cased, stripped header and every (line, record) of a CSV upload.

    ``data`` is decoded by ``decode``; the delimiter is the header's (``,``, ``;`` or a tab, as
    the csv module's Sniffer reads it); any line ending works. Raises CsvUnreadable, saying what
    to fix, for a NUL byte (with its line), a header naming a column twice, a column not in
    ``columns`` (when given) or without a name, a row with more cells than the header, a field
    over the csv module's limit and broken quoting."""
    text = decode(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1 if "\n" in text else text.count("\r", 0, nul) + 1
        raise CsvUnreadable(
            f"Line {line} holds a NUL byte, which no text may contain: the file may be a "
            f"spreadsheet's own format rather than CSV. {SAVE_AS_UTF8}"
        )
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=_dialect(text))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        _check_header(header, columns)
        reader.fieldnames = header
        found = []
        for record in reader:
            if None in record:
                raise CsvUnreadable(
                    f"Line {reader.line_num} has more cells than the header has columns "
                    f"({len(header)}): quote cells that hold the delimiter, or remove the extra "
                    "cells, and upload it again."
                )
            found.append((reader.line_num, record))
    except csv.Error:
        limit_kb = csv.field_size_limit() // 1024
        raise CsvUnreadable(
            f"Line {reader.line_num} cannot be read: a field may be longer than the "
            f"{limit_kb} KB a CSV field can hold, or a quote is not closed. Fix the file and "
            "upload it again."
        ) from None
    return header, found


def _dialect(text: str) -> type[csv.Dialect]:
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    try:
        sniffed = csv.Sniffer().sniff(first, delimiters=DELIMITERS)
    except csv.Error:  # one column, or nothing to tell by: the standard comma
        return csv.excel

    class Upload(csv.excel):
        delimiter = sniffed.delimiter

    return Upload


def _check_header(header: list[str], columns: Collection[str] | None) -> None:
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            raise CsvUnreadable(
                f"Column {position} of the header has no name: name it, or remove the column "
                "(and any delimiter at the end of the lines), and upload it again."
            )
        if name in seen:
            raise CsvUnreadable(
                f"The header names the column “{name}” twice: keep one, and upload it again."
            )
        seen.add(name)
        if columns is not None and name not in columns:
            raise CsvUnreadable(
                f"The header names a column this file cannot have: “{name}”. The columns are "
                f"{', '.join(columns)}; rename or remove it, and upload it again."
            )


def fold(name: str) -> str:
    """A name as names are compared: case and runs of spaces ignored (``applied  ML`` is
    ``Applied ML``)."""
    return " ".join(name.split()).casefold()


def too_long(values: dict[str, str], limits: dict[str, tuple[str, int]]) -> str | None:
    """What is wrong when a cell is longer than its database column holds (``limits``: column ->
    (what it is, the most characters)), the same on SQLite (which would store it) and PostgreSQL
    (which would refuse it); None when every cell fits."""
    for column, (what, most) in limits.items():
        if len(values.get(column) or "") > most:
            return f"the {what} is longer than {most} characters"
    return None
