"""Query rows into dataclasses by column name, never by position; and ids in chunks small
enough for every database's limit on a statement's parameters."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Label, Row, SQLColumnExpression

T = TypeVar("T")
AnyRow = Row[*tuple[Any, ...]]


def field_names(cls: type[Any]) -> tuple[str, ...]:
    """The names ``cls`` is built from: a dataclass's init fields or a NamedTuple's fields."""
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls) if f.init)
    names = getattr(cls, "_fields", None)
    if names is None:
        raise TypeError(f"{cls.__name__} is neither a dataclass nor a NamedTuple")
    return tuple(names)


def labelled(
    cls: type[Any], /, *, omit: Collection[str] = (), **columns: SQLColumnExpression[Any]
) -> list[Label[Any]]:
    """The select columns for ``cls``, each labelled with the field it fills, in the given order.

    ``omit`` names fields the caller fills itself. Raises TypeError, when the query is built,
    unless the columns name exactly the remaining fields, so a renamed or missing field cannot
    leave a column to fill the wrong one.
    """
    wanted = set(field_names(cls)) - set(omit)
    if set(columns) != wanted:
        missing = ", ".join(sorted(wanted - set(columns))) or "none"
        unknown = ", ".join(sorted(set(columns) - wanted)) or "none"
        raise TypeError(f"{cls.__name__} columns: missing {missing}; unknown {unknown}")
    return [column.label(name) for name, column in columns.items()]


def row_into(cls: type[T], row: AnyRow, /, **given: Any) -> T:
    """One ``cls`` from the row's columns named after its fields (other columns, such as a key
    the caller groups by, are ignored), plus the ``given`` fields the query does not hold."""
    values = row._mapping
    return cls(**{name: values[name] for name in field_names(cls) if name not in given}, **given)


def rows_into(cls: type[T], result: Iterable[AnyRow], /) -> list[T]:
    """Every row of ``result`` as a ``cls``, in the result's order."""
    return [row_into(cls, row) for row in result]


IN_LIST = 500  # values per IN (...) list, within every database's limit on parameters


def chunks(items: Sequence[T], size: int = IN_LIST) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
