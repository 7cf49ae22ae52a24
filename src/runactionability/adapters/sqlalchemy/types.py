"""Column types that store the same values the same way on SQLite and PostgreSQL.

SQLite has no time zone type and no JSON type, and its columns accept any value, so these types
decide how a value is stored there and how an unexpected stored value is read back: as itself,
for the core to flag, never as an exception that would take a whole page down.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from runactionability.errors import UsageError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

READABLE_FROM = datetime(1, 1, 2, tzinfo=UTC)
READABLE_UNTIL = datetime(9999, 12, 31, tzinfo=UTC)
"""The stored instants the adapters read, ``READABLE_FROM <= value < READABLE_UNTIL`` (UTC).

A value outside (PostgreSQL's ``'infinity'``, ``'-infinity'``, a year before 1 or after 9999;
an integer on SQLite that no ``datetime`` holds) is unreadable: read back as its stored text
or number, which the core flags, and never evidence. The day of margin at either end keeps a
value psycopg renders in a session time zone other than UTC inside ``datetime``'s years.
"""


def to_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    return (value - EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """The aware UTC datetime ``value`` microseconds after the Unix epoch."""
    return EPOCH + value * _MICROSECOND


_READABLE_MICROS = (to_micros(READABLE_FROM), to_micros(READABLE_UNTIL) - 1)


def _bounds(dialect_name: str) -> tuple[Any, Any]:
    """The readable window as SQL constants (``READABLE_FROM``, the last readable instant)."""
    if dialect_name == "postgresql":
        # ISO dates read the same under every DateStyle.
        return (
            sa.literal_column(f"TIMESTAMPTZ '{READABLE_FROM.isoformat()}'"),
            sa.literal_column(f"TIMESTAMPTZ '{(READABLE_UNTIL - _MICROSECOND).isoformat()}'"),
        )
    low, high = _READABLE_MICROS
    return sa.literal_column(str(low)), sa.literal_column(str(high))


def as_run_id(value: Any) -> Any:
    """A stored run id as a ``RunId``: a str or int as it is, any other value as its text.

    Host id columns are often ``uuid`` (or ``numeric``), which the driver returns as objects
    ``OperationRun`` does not accept; their text is also what a caller passes back to look one up.
    """
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return value if value is None else str(value)


class UtcTimestamp(TypeDecorator[datetime]):
    """A timezone-aware instant: ``timestamptz`` on PostgreSQL, integer UTC microseconds elsewhere.

    Integers compare and index exactly on SQLite (ISO text would compare wrongly across offsets
    and be three times as wide in every index entry). Writing a naive datetime is a caller's bug
    and raises; a stored value that is not an integer (written by other code) is read back as is,
    so the core reports the run's timestamp as invalid instead of the read failing. A naive value
    (a host's PostgreSQL ``timestamp without time zone`` column) is read back naive, never
    placed in a guessed zone: the core reports ``naive_timestamp``, and such a run or state is
    never evidence.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.DateTime(timezone=True))
        return dialect.type_descriptor(sa.BigInteger())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise UsageError(f"a stored timestamp must be a timezone-aware datetime, not {value!r}")
        if dialect.name == "postgresql":
            return value
        return to_micros(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, datetime):
            if value.utcoffset() is None:
                # A host column without a time zone (PostgreSQL ``timestamp``): which instant it
                # means is unknown, and reading it in this process's zone would make the verdict
                # depend on where the review runs. Kept naive, so the core says so.
                return value
            if not READABLE_FROM <= value < READABLE_UNTIL:
                # Inside datetime's years yet outside the window the SQL tests read as an
                # instant: the text, so that every path flags the row alike.
                return value.isoformat()
            # psycopg reports the session's time zone; UTC makes both engines read alike.
            return value.astimezone(UTC)
        if isinstance(value, int) and not isinstance(value, bool):
            low, high = _READABLE_MICROS
            return from_micros(value) if low <= value <= high else value
        return value


def instant_bound(column: sa.ColumnElement[Any], dialect_name: str) -> sa.ColumnElement[bool]:
    """Like ``valid_timestamp``, as a range an index seek applies without reading the row.

    NULL fails any comparison and, on SQLite, stray text sorts above every integer.
    """
    low, high = _bounds(dialect_name)
    if dialect_name == "sqlite":
        column = sa.type_coerce(column, sa.BigInteger())
    return sa.and_(column >= low, column <= high)


def valid_timestamp(column: sa.ColumnElement[Any], dialect_name: str) -> sa.ColumnElement[bool]:
    """SQL that is true when ``column`` holds a readable instant (see ``READABLE_FROM``).

    Never NULL, so that its negation is true for a NULL value.
    """
    if dialect_name == "sqlite":
        present = sa.func.typeof(column) == sa.literal_column("'integer'")
    else:
        present = column.is_not(None)
    return sa.and_(present, instant_bound(column, dialect_name))


def readable_columns(
    column: sa.ColumnElement[Any], name: str, dialect_name: str
) -> list[sa.ColumnElement[Any]]:
    """``column`` labelled ``name`` for a run read, safe to read whatever the row stores.

    psycopg cannot read an unreadable ``timestamptz`` (it raises, failing the whole page), so on
    PostgreSQL such a value comes back NULL under ``name`` and as its text under ``name_raw``
    (``stored_instant`` puts them back together). SQLite returns any value as itself.
    """
    if dialect_name != "postgresql":
        return [column.label(name)]
    readable = valid_timestamp(column, dialect_name)
    return [
        sa.case((readable, column)).label(name),
        sa.case(
            (sa.and_(column.is_not(None), sa.not_(readable)), sa.cast(column, sa.Text()))
        ).label(f"{name}_raw"),
    ]


def stored_instant(row: Any, name: str) -> Any:
    """The value of ``name`` in a row read through ``readable_columns``."""
    raw = row.get(f"{name}_raw")
    return row[name] if raw is None else raw


class JsonDocument(TypeDecorator[Any]):
    """A JSON value: ``jsonb`` on PostgreSQL, JSON text elsewhere.

    Text that is not valid JSON (written by other code) is read back as the raw string, so the
    core reports the context as not a mapping instead of the read failing.
    """

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql" or not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value


# The collation under which two texts are equal only when they are the same bytes. A host column
# may be case-insensitive (SQLite ``NOCASE``, a nondeterministic PostgreSQL ICU collation), and
# an id equal to another only under such a collation names another scope or subject.
_EXACT_COLLATION = {"sqlite": "BINARY", "postgresql": "C"}


def exact_equal(column: Any, value: Any, dialect_name: str) -> sa.ColumnElement[bool]:
    """``column = value`` byte for byte, whatever the column's collation.

    The plain equality stays beside the exact one: it is what an index on the column (built
    under the column's own collation) can seek on, and the exact one filters what the seek finds.
    """
    collation = _EXACT_COLLATION.get(dialect_name)
    if collation is None:
        return sa.and_(column == value)
    return sa.and_(column == value, column.collate(collation) == value)


def exact_text(column: Any, dialect_name: str) -> Any:
    """``column`` under the byte-exact collation, for grouping and joining by exact value."""
    collation = _EXACT_COLLATION.get(dialect_name)
    return column if collation is None else column.collate(collation)


MIN_MICROS = to_micros(datetime.min.replace(tzinfo=UTC))
MAX_MICROS = to_micros(datetime.max.replace(tzinfo=UTC))


def sound_instant(column: Any, dialect_name: str) -> sa.ColumnElement[bool]:
    """SQL true when ``column`` holds an instant the run source reads as an aware datetime.

    On SQLite that is an integer within ``datetime``'s range (a REAL, stray text or an integer
    beyond the range is read back as itself, which the core flags); on PostgreSQL a finite value.
    """
    if dialect_name == "sqlite":
        micros = sa.type_coerce(column, sa.BigInteger())
        return sa.and_(
            sa.func.typeof(column) == sa.literal_column("'integer'"),
            micros >= sa.literal_column(str(MIN_MICROS)),
            micros <= sa.literal_column(str(MAX_MICROS)),
        )
    # NULL is not finite either (the test is NULL, which no WHERE keeps).
    return sa.and_(sa.func.isfinite(column))


def sound_run_times(
    created: Any, started: Any, completed: Any, dialect_name: str
) -> list[sa.ColumnElement[bool]]:
    """The SQL form of ``core.sound_run_times``: the one validity rule for runs and evidence.

    ``created_at`` and ``completed_at`` are readable instants, ``started_at`` is NULL or one,
    and the run completed neither before it was created nor before it started.
    """
    return [
        sound_instant(created, dialect_name),
        sound_instant(completed, dialect_name),
        sa.or_(started.is_(None), sound_instant(started, dialect_name)),
        completed >= created,
        sa.or_(started.is_(None), completed >= started),
    ]


def evidence_times(
    created: Any, started: Any, completed: Any, as_of: Any, dialect_name: str
) -> list[sa.ColumnElement[bool]]:
    """When a completed run can be evidence at ``as_of``: the later-success test of every reader.

    Its event start (``started_at``, else ``created_at``) and its end are within the readable
    range, bounds an index seek applies without reading the row (NULL, stray text and
    unreadable instants fall outside them), it ended by ``as_of``, and its times are sound
    (``sound_run_times``). ``SqlRunHistory`` seeks with it and the pushdown compiles it.
    """
    return [
        instant_bound(sa.func.coalesce(started, created), dialect_name),
        instant_bound(completed, dialect_name),
        completed <= as_of,
        *sound_run_times(created, started, completed, dialect_name),
    ]


def json_subject(document: Any, key: Any, dialect_name: str) -> tuple[Any, Any]:
    """The JSON type of ``document``'s member ``key``, and the exact text the core compares.

    The text is a string member's value, or an integer member's decimal digits as written
    (SQLite reads an integer beyond 64 bits as a rounded REAL, so its digits are taken from the
    JSON text itself); NULL for any other member. ``key`` is a SQLite JSON path or a PostgreSQL
    member name. On PostgreSQL the type is ``jsonb_typeof``'s ('string', 'number'); on SQLite
    ``json_type``'s ('text', 'integer'), NULL for a document that is not valid JSON.
    """
    if dialect_name == "postgresql":
        json_document = sa.cast(document, postgresql.JSONB)
        kind: Any = sa.func.jsonb_typeof(json_document.op("->")(key))
        value: Any = sa.type_coerce(json_document.op("->>")(key), sa.Text())
        number = sa.and_(
            kind == sa.literal_column("'number'"),
            value.op("~")(sa.literal_column("'^-?[0-9]+$'")),
        )
        return kind, sa.case((kind == sa.literal_column("'string'"), value), (number, value))
    raw = sa.type_coerce(document, sa.Text())
    # json_extract raises on malformed JSON, and a CASE is the one construct whose evaluation
    # order SQLite guarantees.
    valid = sa.func.json_valid(raw) == 1
    kind = sa.case((valid, sa.func.json_type(raw, key)))
    value = sa.func.json_extract(raw, key)
    exact_integer = sa.case(
        (sa.func.typeof(value) == sa.literal_column("'integer'"), sa.cast(value, sa.Text())),
        else_=raw.op("->")(key),
    )
    text = sa.case(
        (kind == sa.literal_column("'text'"), sa.type_coerce(value, sa.Text())),
        (kind == sa.literal_column("'integer'"), exact_integer),
    )
    return kind, text
