"""Column types that store the same values the same way on SQLite and PostgreSQL.

SQLite has no time zone type and no JSON type, and its columns accept any value, so these types
decide how a value is stored there and how an unexpected stored value is read back: as itself,
for the core to flag, never as an exception that would take a whole page down.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from runactionability.adapters.sqlalchemy.json_depth import pg_readable, sqlite_shallow
from runactionability.adapters.sqlalchemy.json_members import (
    pg_without_repeated,
    repeated_member,
    sqlite_path_name,
)
from runactionability.adapters.sqlalchemy.json_text import read_json_text
from runactionability.errors import UsageError
from runactionability.limits import MAX_INTEGER_DIGITS

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

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
    return (value - EPOCH) // MICROSECOND


def from_micros(value: int) -> datetime:
    """The aware UTC datetime ``value`` microseconds after the Unix epoch."""
    return EPOCH + value * MICROSECOND


READABLE_MICROS = (to_micros(READABLE_FROM), to_micros(READABLE_UNTIL) - 1)
"""The readable window as integer UTC microseconds, both ends included."""


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
            low, high = READABLE_MICROS
            return from_micros(value) if low <= value <= high else value
        return value


class JsonDocument(TypeDecorator[Any]):
    """A JSON value: ``jsonb`` on PostgreSQL, JSON text elsewhere.

    Text that is not valid JSON (written by other code) is read back as the raw string, so the
    core reports the context as not a mapping instead of the read failing; text is read as the
    SQL reads it (``read_json_text``). A PostgreSQL text column is refused when the mapping is
    built (``reflect``).
    """

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.Text())

    def column_expression(self, colexpr: Any) -> Any:
        """On PostgreSQL, the document's text, for ``read_json_text`` to read as on SQLite.

        psycopg's own reader failed the whole statement's answer on a document Python cannot
        read: one nested a few hundred levels (``RecursionError``), one holding an integer of
        more than 4,300 digits (``ValueError``; ``jsonb`` prints ``1e5000`` so). A document
        nested deeper than ``MAX_CONTEXT_DEPTH``, or a ``json`` value ``jsonb`` cannot hold
        (``json_depth.pg_readable``), is selected as a JSON string of its text: no mapping, for
        the core to flag, as SQLite's reader keeps such text.
        """
        if not isinstance(self.impl_instance, postgresql.JSONB):
            return colexpr
        unreadable = sa.cast(sa.func.to_jsonb(sa.cast(colexpr, sa.Text())), sa.Text())
        # jsonb's text: a host's column may be json, read as jsonb (``reflect``), without the
        # members a json value repeats with different values (``pg_without_repeated``).
        read = sa.cast(colexpr, postgresql.JSONB)
        document = sa.cast(pg_without_repeated(colexpr, read), sa.Text())
        return sa.type_coerce(sa.case((pg_readable(colexpr), document), else_=unreadable), self)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return read_json_text(value) if isinstance(value, str) else value


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
    if collation is None or _integer(column):
        return sa.and_(column == value)
    return sa.and_(column == value, column.collate(collation) == value)


def exact_text(column: Any, dialect_name: str) -> Any:
    """``column`` under the byte-exact collation, for grouping and joining by exact value."""
    collation = _EXACT_COLLATION.get(dialect_name)
    return column if collation is None or _integer(column) else column.collate(collation)


MIN_MICROS = to_micros(datetime.min.replace(tzinfo=UTC))
MAX_MICROS = to_micros(datetime.max.replace(tzinfo=UTC))


def sqlite_json_text(raw: Any) -> Any:
    """Whether a SQLite value is JSON text, the one form ``JsonDocument`` reads as JSON.

    ``json_valid`` alone also takes a BLOB (SQLite 3.40 reads its bytes as text, 3.45 and later
    as JSONB) and a number, which Python reads as bytes or a number, never as a mapping: the
    SQL would read a subject, or an object, in a context the core calls invalid. Text nested
    deeper than ``MAX_CONTEXT_DEPTH`` is no JSON to ``read_json_text`` either.
    """
    return sa.and_(
        sa.func.typeof(raw) == sa.literal_column("'text'"),
        sa.func.json_valid(raw) == 1,
        sqlite_shallow(raw),
    )


def json_subject(
    document: Any, key: Any, dialect_name: str, *, once: bool = True
) -> tuple[Any, Any]:
    """The JSON type of ``document``'s member ``key``, and the exact text the core compares.

    The text is a string member's value, or an integer member's decimal digits as written
    (SQLite reads an integer beyond 64 bits as a rounded REAL, so its digits are taken from the
    JSON text itself); NULL for any other member, and for one the object repeats with different
    values (``json_members``; ``once`` False reads the first as SQLite does, for a caller that
    tests the repeat itself). ``key`` is a SQLite JSON path or a PostgreSQL
    member name. On PostgreSQL the type is ``jsonb_typeof``'s ('string', 'number'); on SQLite
    ``json_type``'s ('text', 'integer'), NULL for a document that is not valid JSON.
    """
    if dialect_name == "postgresql":
        # No subject in a context nested too deep or one jsonb cannot hold, as Python reads none.
        json_document = sa.case((pg_readable(document), sa.cast(document, postgresql.JSONB)))
        kind: Any = sa.func.jsonb_typeof(json_document.op("->")(key))
        value: Any = sa.type_coerce(json_document.op("->>")(key), sa.Text())
        number = sa.and_(
            kind == sa.literal_column("'number'"),
            value.op("~")(sa.literal_column("'^-?[0-9]+$'")),
            short_integer(value),
        )
        return kind, sa.case(
            (repeated_member(document, key, dialect_name) if once else sa.false(), sa.null()),
            (kind == sa.literal_column("'string'"), value),
            (number, value),
        )
    raw = sa.type_coerce(document, sa.Text())
    # json_extract raises on malformed JSON, and a CASE is the one construct whose evaluation
    # order SQLite guarantees.
    valid = sqlite_json_text(raw)
    kind = sa.case((valid, sa.func.json_type(raw, key)))
    value = sa.func.json_extract(raw, key)
    written = raw.op("->")(key)
    exact_integer = sa.case(
        (sa.func.typeof(value) == sa.literal_column("'integer'"), sa.cast(value, sa.Text())),
        (short_integer(written), written),
    )
    text = sa.case(
        (
            repeated_member(raw, sqlite_path_name(key), dialect_name) if once else sa.false(),
            sa.null(),
        ),
        (kind == sa.literal_column("'text'"), sa.type_coerce(value, sa.Text())),
        (kind == sa.literal_column("'integer'"), exact_integer),
    )
    return kind, text


def short_integer(digits: Any) -> Any:
    """Whether the integer text ``digits`` has at most ``MAX_INTEGER_DIGITS`` digits: a longer
    one is no subject, as ``model.usable_id`` and ``read_json_text`` read none in it."""
    count = sa.func.length(sa.func.ltrim(digits, sa.literal_column("'-'")))
    return count <= sa.literal_column(str(MAX_INTEGER_DIGITS), sa.Integer())


class IntegerVocabulary(TypeDecorator[Any]):
    """An integer status, outcome, lifecycle or state status column.

    A vocabulary's keys are text (every TOML key is), so the integer a key names is bound as an
    integer, in the column's own type (comparing the column with text is an error on PostgreSQL
    and a cast of the column would lose its indexes); a stored integer is read back as its
    decimal text, the very key that lists it. Anything else a SQLite column holds is read as
    stored, for the readers to flag as a value no vocabulary lists.
    """

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return int(value) if isinstance(value, str) else value

    def process_literal_param(self, value: Any, dialect: Dialect) -> Any:
        return self.process_bind_param(value, dialect)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class CollatedText(TypeDecorator[Any]):
    """A text vocabulary column under a collation that calls distinct texts equal (SQLite
    ``NOCASE``, a nondeterministic PostgreSQL collation): ``vocabulary_in`` matches it byte for
    byte, as the readers do, at the cost of a second comparison."""

    impl = sa.String
    cache_ok = True


def vocabulary_type(value_type: str) -> TypeEngine[Any]:
    """The SQL type of a vocabulary column holding ``value_type`` (``VALUE_TYPES``)."""
    if value_type == "integer":
        return IntegerVocabulary()
    return CollatedText() if value_type == "collated_text" else sa.String()


def vocabulary_equal(column: Any, value: str, dialect_name: str) -> Any:
    """``column = value`` for a vocabulary column, as ``vocabulary_in`` matches it."""
    if isinstance(getattr(column, "type", None), CollatedText):
        return exact_equal(column, value, dialect_name)
    return column == value


def vocabulary_in(column: Any, values: Collection[str], dialect_name: str) -> Any:
    """``column IN values`` for a vocabulary column: as ``exact_in`` for collated text; a plain
    IN otherwise, which is exact there already (and what a partial index's predicate repeats)."""
    if isinstance(getattr(column, "type", None), CollatedText):
        return exact_in(column, values, dialect_name)
    return column.in_(sorted(values)) if values else sa.false()


def exact_in(column: Any, values: Collection[str], dialect_name: str) -> Any:
    """``column IN values`` as the readers match it: byte for byte for text.

    The plain IN stays beside the exact one, as in ``exact_equal`` (an index, or a partial
    index's predicate, is matched on it). Values bind in the column's type.
    """
    if not values:
        return sa.false()
    ordered = sorted(values)
    collation = _EXACT_COLLATION.get(dialect_name)
    if collation is None or _integer(column):
        return column.in_(ordered)
    # Typed literals, so that the collation is not repeated on every value.
    exact = [sa.literal(value, sa.String()) for value in ordered]
    return sa.and_(column.in_(ordered), column.collate(collation).in_(exact))


def _integer(column: Any) -> bool:
    """Whether ``column`` is an integer vocabulary column: no collation applies to it."""
    return isinstance(getattr(column, "type", None), IntegerVocabulary)
