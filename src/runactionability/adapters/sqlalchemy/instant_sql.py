"""The SQL that reads instants in a table's own storage (``Instants``), as its Python readers do.

Every function takes the column (a mapping's column carries its ``Instants`` in its type, see
``instants_of``) and the dialect name. With ``Instants.native()`` each writes exactly the SQL
the reference schema has always used. The rules, row by row the same as ``Instants.read``:

- ``valid_timestamp``: the stored value is a readable instant (never NULL, so its negation is
  true for NULL);
- ``instant_key``: the instant as the dialect's canonical value (integer UTC microseconds on
  SQLite, ``timestamptz`` on PostgreSQL), exact to the microsecond, for comparing instants
  stored in different forms or needing a canonical form (ISO text with and without fraction
  digits, wall times across a DST change);
- ``compare`` and ``compare_to``: exact comparisons, with an index-usable range on the raw
  column beside any canonical one, the parameter converted to the column's storage.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from runactionability.adapters.sqlalchemy.instants import Instants, instants_of
from runactionability.adapters.sqlalchemy.types import (
    MAX_MICROS,
    MICROSECOND,
    MIN_MICROS,
    READABLE_FROM,
    READABLE_UNTIL,
    UtcTimestamp,
    to_micros,
)

_LOW = to_micros(READABLE_FROM)
_HIGH = to_micros(READABLE_UNTIL) - 1
_PG_LOW = f"TIMESTAMPTZ '{READABLE_FROM.isoformat()}'"
_PG_HIGH = f"TIMESTAMPTZ '{(READABLE_UNTIL - MICROSECOND).isoformat()}'"
_DIGIT = "[0-9]"
_ISO_GLOB = f"{_DIGIT * 4}-{_DIGIT * 2}-{_DIGIT * 2}[ T]{_DIGIT * 2}:{_DIGIT * 2}:{_DIGIT * 2}"
_PG_ISO = (
    r"'^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[ T]"
    r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$'"
)
# Wall-clock offsets stay within a day of UTC, so a wall-time range this much wider than the
# UTC one holds every stored value that can be an instant inside the UTC one.
_SLACK = "INTERVAL '2 days'"
_FIRST_WALL = "TIMESTAMP '0001-01-01 00:00'"
_LAST_WALL = "TIMESTAMP '9999-12-31 23:59'"


def _literal(value: Any) -> Any:
    return sa.literal_column(str(value))


def _text(value: str) -> Any:
    return sa.literal_column(f"'{value}'")


def _int(column: Any) -> Any:
    return sa.type_coerce(column, sa.BigInteger())


def _epoch_bounds(instants: Instants) -> tuple[int, int]:
    unit = instants.micros
    return -(-_LOW // unit), _HIGH // unit


# -- readability ------------------------------------------------------------------------------


def _sqlite_iso_parses(column: Any) -> Any:
    text = sa.type_coerce(column, sa.Text())
    head = sa.func.substr(text, 1, 19, type_=sa.Text())
    grammar = [text.op("GLOB")(_text(_ISO_GLOB))]
    grammar += [text.op("GLOB")(_text(f"{_ISO_GLOB}.{_DIGIT * n}")) for n in range(1, 7)]
    # SQLite parses '2024-02-30' and '24:00:00' without complaint; printing the parsed instant
    # back shows whether the text named a real calendar time.
    printed = sa.func.strftime(_text("%Y-%m-%d %H:%M:%S"), sa.func.julianday(head))
    return sa.and_(
        sa.func.typeof(column) == _text("text"),
        sa.or_(*grammar),
        sa.func.coalesce(printed, _text("")) == sa.func.replace(head, _text("T"), _text(" ")),
    )


def _pg_iso_parses(column: Any) -> Any:
    text = sa.type_coerce(column, sa.Text())
    year = sa.cast(sa.func.substr(text, 1, 4), sa.Integer())
    month = sa.cast(sa.func.substr(text, 6, 2), sa.Integer())
    day = sa.cast(sa.func.substr(text, 9, 2), sa.Integer())
    last_day = sa.func.extract(
        "day", sa.func.make_date(year, month, 1) + sa.literal_column("INTERVAL '1 month - 1 day'")
    )
    # The CASE orders the tests: make_date raises for year 0, the regular expression rules it out.
    return sa.case(
        (
            sa.and_(text.op("~")(sa.literal_column(_PG_ISO)), sa.func.substr(text, 1, 4) != "0000"),
            day <= last_day,
        ),
        else_=sa.false(),
    )


def _parses(column: Any, instants: Instants, dialect: str) -> Any:
    """True when the stored value spells an instant in the storage (a key can be taken)."""
    if instants.form == "iso_text":
        return _sqlite_iso_parses(column) if dialect == "sqlite" else _pg_iso_parses(column)
    if instants.form == "epoch":
        if dialect == "sqlite":
            return sa.func.typeof(column) == _text("integer")
        return column.is_not(None)
    return sa.and_(column.is_not(None), sa.func.isfinite(column))


def instant_bound(column: Any, dialect: str) -> sa.ColumnElement[bool]:
    """Like ``valid_timestamp``, as a range an index seek applies without reading the row.

    NULL fails any comparison and, on SQLite, stray text sorts above every integer (and every
    integer below any text).
    """
    instants = instants_of(column)
    if instants.is_native:
        if dialect == "sqlite":
            return sa.and_(_int(column) >= _literal(_LOW), _int(column) <= _literal(_HIGH))
        return sa.and_(column >= _literal(_PG_LOW), column <= _literal(_PG_HIGH))
    if instants.form == "epoch":
        low, high = _epoch_bounds(instants)
        return sa.and_(_int(column) >= _literal(low), _int(column) <= _literal(high))
    if instants.form == "iso_text":
        text = sa.type_coerce(column, sa.Text())
        return sa.and_(text >= _text("0001-01-01"), text < _text("9999-12-32"))
    raw = sa.type_coerce(column, sa.DateTime())
    return sa.and_(
        raw >= _literal("TIMESTAMP '0001-01-01'"), raw < _literal("TIMESTAMP '9999-12-31 23:59'")
    )


def valid_timestamp(column: Any, dialect: str) -> sa.ColumnElement[bool]:
    """SQL that is true when ``column`` holds a readable instant (see ``READABLE_FROM``).

    Never NULL, so that its negation is true for a NULL value.
    """
    instants = instants_of(column)
    if instants.is_native:
        if dialect == "sqlite":
            present = sa.func.typeof(column) == _text("integer")
        else:
            present = column.is_not(None)
        return sa.and_(present, instant_bound(column, dialect))
    if instants.form == "epoch":
        return sa.and_(_parses(column, instants, dialect), instant_bound(column, dialect))
    key = instant_key(column, dialect)
    low, high = (_LOW, _HIGH) if dialect == "sqlite" else (_PG_LOW, _PG_HIGH)
    return sa.and_(_parses(column, instants, dialect), key >= _literal(low), key <= _literal(high))


def sound_instant(column: Any, dialect: str) -> sa.ColumnElement[bool]:
    """SQL true when ``column`` holds an instant the run source reads as an aware datetime.

    Natively, on SQLite an integer within ``datetime``'s range (a REAL, stray text or an integer
    beyond the range is read back as itself, which the core flags); on PostgreSQL a finite
    value. Any other storage reads exactly its readable instants as datetimes.
    """
    if not instants_of(column).is_native:
        return valid_timestamp(column, dialect)
    if dialect == "sqlite":
        micros = _int(column)
        return sa.and_(
            sa.func.typeof(column) == _text("integer"),
            micros >= _literal(MIN_MICROS),
            micros <= _literal(MAX_MICROS),
        )
    # NULL is not finite either (the test is NULL, which no WHERE keeps).
    return sa.and_(sa.func.isfinite(column))


# -- comparisons ------------------------------------------------------------------------------


def _pg_epoch(column: Any, unit: int) -> Any:
    # Whole seconds and the rest apart: each product is exact in the float8 an interval is
    # multiplied by, where one product in microseconds would round beyond 2**53.
    per_second = 1_000_000 // unit
    seconds = column if per_second == 1 else column.op("/", precedence=8)(_literal(per_second))
    moment = _literal("TIMESTAMPTZ 'epoch'") + seconds * _literal("INTERVAL '1 second'")
    if per_second > 1:
        rest = column % _literal(per_second)
        moment = moment + rest * _literal(f"INTERVAL '{unit} microseconds'")
    return moment


def instant_key(column: Any, dialect: str, instants: Instants | None = None) -> Any:
    """The stored instant as the dialect's canonical value, typed ``UtcTimestamp``.

    Meaningful where ``valid_timestamp`` holds; ``instants`` defaults to the column's.
    """
    instants = instants or instants_of(column)
    if instants.is_native:
        return sa.type_coerce(column, UtcTimestamp())
    form = instants.form
    if dialect == "sqlite":
        if form == "epoch":
            key = _int(column) * _literal(instants.micros) if instants.micros > 1 else column
        else:
            text = sa.type_coerce(column, sa.Text())
            head = sa.func.substr(text, 1, 19)
            seconds = sa.cast(sa.func.strftime(_text("%s"), head), sa.Integer)
            fraction = sa.func.substr(text, 21, type_=sa.Text()).concat(_text("000000"))
            digits = sa.func.substr(fraction, 1, 6, type_=sa.Text())
            key = seconds * _literal(1_000_000) + sa.cast(digits, sa.Integer)
        return sa.type_coerce(key, UtcTimestamp())
    zone: Any = sa.literal_column(f"'{instants.zone}'")
    if form == "epoch":
        key = _pg_epoch(_int(column), instants.micros)
    elif form == "iso_text":
        wall = sa.cast(sa.type_coerce(column, sa.Text()), sa.DateTime())
        key = sa.case((_pg_iso_parses(column), sa.func.timezone(zone, wall)))
    else:
        key = sa.func.timezone(zone, sa.type_coerce(column, sa.DateTime()))
    return sa.type_coerce(key, UtcTimestamp())


def _raw_exact(instants: Instants) -> bool:
    """Whether the stored values order as their instants (no canonical form needed)."""
    return instants.is_native or instants.form == "epoch"


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}


def compare(left: Any, op: str, right: Any, dialect: str) -> Any:
    """``left op right`` for two instant columns (or expressions), exact to the microsecond."""
    mine, theirs = instants_of(left), instants_of(right)
    apply = _OPERATORS[op]
    if mine == theirs and _raw_exact(mine):
        return apply(left, right)
    if mine.is_native and theirs.is_native:
        return apply(left, right)
    return apply(instant_key(left, dialect), instant_key(right, dialect))


def order_key(column: Any, dialect: str) -> Any:
    """What to order a table's instants by: the stored value where it orders as the instant."""
    return column if _raw_exact(instants_of(column)) else instant_key(column, dialect)


def _epoch_parameter(value: Any, instants: Instants, op: str, dialect: str) -> Any:
    """A canonical parameter as a count of the unit that compares exactly under ``op``."""
    unit = instants.micros
    # A cast, not a coercion: coercing a parameter would bind it as an integer, unconverted.
    micros = sa.cast(value, sa.BigInteger()) if dialect == "sqlite" else _pg_micros(value)
    if op in {">=", "<"}:
        micros = micros - _literal(1)
    if unit == 1:
        return micros
    # Floor division (SQLite and PostgreSQL truncate toward zero).
    rest = (micros % _literal(unit) + _literal(unit)) % _literal(unit)
    # Exact: the dividend is a multiple of the unit (integer division on both engines).
    return (micros - rest).op("/", precedence=8)(_literal(unit))


def _pg_micros(value: Any) -> Any:
    seconds = sa.func.extract("epoch", value)
    return sa.cast(sa.func.round(seconds * _literal(1_000_000)), sa.BigInteger())


def _raw_range(column: Any, instants: Instants, op: str, value: Any, dialect: str) -> Any:
    """A range on the stored values that holds every row ``compare_to`` can keep."""
    upper = op in {"<", "<="}
    if dialect == "sqlite":
        # SQLite holds only UTC text: a value's date is at most the parameter's date.
        seconds = _epoch_parameter(value, Instants.epoch("s"), "<=", dialect)
        day = sa.func.date(seconds, _text("unixepoch"), type_=sa.Text())
        text = sa.type_coerce(column, sa.Text())
        return text < day.concat(_text("U")) if upper else text >= day
    shifted = value + _literal(_SLACK) if upper else value - _literal(_SLACK)
    wall = sa.func.timezone(_text("UTC"), shifted)
    if instants.form == "naive":
        raw = sa.type_coerce(column, sa.DateTime())
        return raw <= wall if upper else raw >= wall
    # Within the years ISO text spells: to_char writes year 0 (1 BC) as 0001, and 10000.
    within = sa.func.least(sa.func.greatest(wall, _literal(_FIRST_WALL)), _literal(_LAST_WALL))
    day = sa.func.to_char(within, _text("YYYY-MM-DD"), type_=sa.Text())
    text = sa.type_coerce(column, sa.Text())
    return text < day.concat(_text("U")) if upper else text >= day


def compare_to(column: Any, op: str, value: Any, dialect: str) -> Any:
    """``column op value`` for a parameter ``value`` bound as ``UtcTimestamp`` (e.g. ``as_of``).

    The parameter is converted to the column's storage in SQL, so an index on the column can
    seek; where the storage needs a canonical form the exact comparison stands beside the range.
    """
    instants = instants_of(column)
    apply = _OPERATORS[op]
    if instants.is_native:
        return apply(column, value)
    if not isinstance(value, sa.ClauseElement):
        value = sa.literal(value, UtcTimestamp())
    if instants.form == "epoch":
        # x >= p exactly when x > p - 1 microsecond, and x < p when x <= p - 1 microsecond:
        # in whole units only <= and > of a floor are exact.
        strict = {">=": ">", "<": "<="}.get(op, op)
        parameter = _epoch_parameter(value, instants, op, dialect)
        return _OPERATORS[strict](_int(column), parameter)
    return sa.and_(
        _raw_range(column, instants, op, value, dialect),
        apply(instant_key(column, dialect), value),
    )


def canonical_parameter(name: str, value: datetime | None = None) -> Any:
    """A bound instant in the dialect's canonical storage (what ``compare_to`` compares with)."""
    return sa.bindparam(name, value, type_=UtcTimestamp())


# -- the validity rule and the evidence test -------------------------------------------------


def sound_run_times(
    created: Any, started: Any, completed: Any, dialect: str
) -> list[sa.ColumnElement[bool]]:
    """The SQL form of ``core.sound_run_times``: the one validity rule for runs and evidence.

    ``created_at`` and ``completed_at`` are readable instants, ``started_at`` is NULL or one,
    and the run completed neither before it was created nor before it started.
    """
    return [
        sound_instant(created, dialect),
        sound_instant(completed, dialect),
        sa.or_(started.is_(None), sound_instant(started, dialect)),
        compare(completed, ">=", created, dialect),
        sa.or_(started.is_(None), compare(completed, ">=", started, dialect)),
    ]


def evidence_times(
    created: Any, started: Any, completed: Any, as_of: Any, dialect: str, *, seek_start: bool = True
) -> list[sa.ColumnElement[bool]]:
    """When a completed run can be evidence at ``as_of``: the later-success test of every reader.

    Its event start (``started_at``, else ``created_at``) and its end are within the readable
    range, bounds an index seek applies without reading the row (NULL, stray text and
    unreadable instants fall outside them), it ended by ``as_of`` (a ``UtcTimestamp``
    parameter), and its times are sound (``sound_run_times``). ``SqlRunHistory`` seeks with it
    and the pushdown compiles it.

    ``seek_start=False`` keeps the event start's range out of SQLite's seek: a caller that
    bounds the start by another row's value (the pushdown's ``start >= r.completed_at``) needs
    that bound to start the seek, and SQLite picks one lower bound per column, the constant
    (measured: the seek then walked every success of the key, 7.5 ms against 0.4 ms for one
    type's failures in a 20,000-run workspace). Unary ``+`` is a no-op on any SQLite value.
    """
    start: Any = sa.func.coalesce(started, created, type_=created.type)
    if not seek_start and dialect == "sqlite":
        start = UnaryExpression(start, operator=custom_op("+"), type_=created.type)
    return [
        instant_bound(start, dialect),
        instant_bound(completed, dialect),
        compare_to(completed, "<=", as_of, dialect),
        *sound_run_times(created, started, completed, dialect),
    ]
