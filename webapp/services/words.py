"""Plain English: counts ("1 row", "3 rows", never "row(s)") and lists ("A, B and C")."""

from __future__ import annotations

from collections.abc import Sequence


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and its noun, singular for exactly one, else ``plural`` (default: noun + "s")."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def and_list(items: Sequence[str]) -> str:
    """The items as a sentence names them: "A", "A and B", "A, B and C"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
