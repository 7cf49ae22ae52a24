"""Instant columns in a run read: whatever a row stores is read, and cursors carry it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.instant_sql import valid_timestamp
from runactionability.adapters.sqlalchemy.instants import Instants, instants_of


def readable_columns(column: Any, name: str, dialect: str) -> list[Any]:
    """``column`` labelled ``name`` for a run read, safe to read whatever the row stores.

    psycopg cannot read an unreadable ``timestamptz`` or ``timestamp`` (it raises, failing the
    whole page), so on PostgreSQL such a value comes back NULL under ``name`` and as its text
    under ``name_raw`` (``stored_instant`` puts them back together). SQLite returns any value as
    itself. A storage other than native also returns the stored value under ``name_stored``,
    which a keyset cursor carries (``cursor_value``): it is what the database orders by.
    """
    instants = instants_of(column)
    columns: list[Any] = []
    if dialect == "postgresql" and instants.form in {"native", "timestamptz", "naive"}:
        readable = valid_timestamp(column, dialect)
        columns += [
            sa.case((readable, column)).label(name),
            sa.case(
                (sa.and_(column.is_not(None), sa.not_(readable)), sa.cast(column, sa.Text()))
            ).label(f"{name}_raw"),
        ]
        if instants.form == "naive":
            wall = sa.case((readable, sa.type_coerce(column, sa.DateTime())))
            columns.append(wall.label(f"{name}_stored"))
        return columns
    columns.append(column.label(name))
    if not instants.is_native:
        columns.append(sa.type_coerce(column, stored_type(instants)).label(f"{name}_stored"))
    return columns


def stored_type(instants: Instants) -> Any:
    """The type a stored value of ``instants`` is read and bound as by itself (no conversion)."""
    if instants.form == "epoch":
        return sa.BigInteger()
    if instants.form == "naive":
        return sa.DateTime()
    return sa.Text()


def stored_instant(row: Any, name: str) -> Any:
    """The value of ``name`` in a row read through ``readable_columns``."""
    raw = row.get(f"{name}_raw")
    return row[name] if raw is None else raw


def cursor_value(row: Any, name: str) -> Any:
    """The value a keyset cursor after ``row`` carries: the stored value the database orders."""
    stored = row.get(f"{name}_stored")
    return stored_instant(row, name) if stored is None else stored


def stored_parameter(column: Any, name: str, value: Any) -> Any:
    """A cursor's unreadable stored value as a PostgreSQL parameter of ``column``'s own type.

    The text is read back by the server as the very value it ordered by (``'infinity'``, a year
    after 9999, a number out of range).
    """
    instants = instants_of(column)
    target = sa.DateTime(timezone=True) if instants.is_native else stored_type(instants)
    return sa.cast(sa.bindparam(name, value, type_=sa.Text()), target)
