"""Numbers with their nouns in plain English ("1 row", "3 rows"), never "row(s)"."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and its noun, singular for exactly one, else ``plural`` (default: noun + "s")."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
