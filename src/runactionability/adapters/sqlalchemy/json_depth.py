"""Whether a stored JSON document is read as one, judged in SQL: how deep it nests, as
``limits.MAX_CONTEXT_DEPTH`` says, and on PostgreSQL whether ``jsonb`` can hold it at all.

Python reads a context nested deeper than the limit as no JSON (``json_text.read_json_text``) and
``model.as_context`` keeps no mapping so deep: each statement must call such a context invalid
too, and read no subject in it, or the SQL and Python would judge one row two ways.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from runactionability.limits import MAX_CONTEXT_DEPTH

# A container at level MAX_CONTEXT_DEPTH (the document itself is level 0) nests one level more.
# Strict: lax mode would also read an array's elements as its own level.
_TOO_DEEP_PATH = (
    f'strict $.**{{{MAX_CONTEXT_DEPTH}}} ? (@.type() == "object" || @.type() == "array")'
)


# With every escaped backslash replaced (``_ESCAPED_BACKSLASH``), each backslash left opens an
# escape; with every surrogate pair then replaced too (``_SURROGATE_PAIR``, left to right, as
# JSON readers pair them), an escaped U+0000 or any surrogate left is one that ``jsonb`` refuses
# with an error, though ``json`` holds it (valid JSON text). No lookbehind: PostgreSQL's took
# ~13 us a row (measured, docs/performance.md).
_ESCAPED_BACKSLASH = "\\\\"
_SURROGATE_PAIR = r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_UNHOLDABLE_ESCAPE = r"\\u(0000|[dD][89a-fA-F])"
# What a json value's text holds before any of those can be in it: it is searched only then.
# Most texts hold no \u escape at all, which one LIKE settles (measured: ~0.3 us a row, three
# strpos ~1 us, the full search ~2-3 us, the cast itself ~2 us; docs/performance.md).
_SUSPECT_ESCAPES = ("\\u0000", "\\ud", "\\uD")

# A number ``jsonb`` refuses (``numeric`` overflows; PostgreSQL 15 measured at each bound): an
# exponent of magnitude 2**30 - 1 or more, more than 16,383 digits after the point once the
# exponent is applied, or a nonzero value of 10**131072 or more. With an exponent of at most
# three digits, the last two need a run of 15,385 digits or more: a shorter text where no digit,
# "e" and four digits follow one another holds none. That one small regex settles nearly every
# text (~0.1 us a row measured; ``translate`` and ``strpos`` took ~4 us, and a text without
# "e" is rare); the exact test parses each number outside the strings.
_LONG_EXPONENT = "[0-9][eE][-+]?[0-9]{4}"
_SHORTEST_LONG_RUN = 16_383 - 999 + 1
_STRING = r'"([^"\\]|\\.)*"'
_NUMBER = "([0-9]+)([.][0-9]+)?([eE][-+]?[0-9]+)?"
_MAX_EXPONENT = 2**30 - 1
_MAX_SCALE = 16_383
_MAX_WEIGHT = 131_072


def pg_shallow(document: Any) -> Any:
    """Whether a PostgreSQL jsonb value nests at most ``MAX_CONTEXT_DEPTH`` levels: all that
    ``pg_readable`` asks of a column known to be ``jsonb``."""
    path = sa.cast(sa.literal(_TOO_DEEP_PATH, sa.Text()), postgresql.JSONPATH)
    return sa.not_(sa.func.jsonb_path_exists(sa.cast(document, postgresql.JSONB), path))


def pg_readable(document: Any) -> Any:
    """Whether a PostgreSQL ``json`` or ``jsonb`` value is read as a document: it casts to
    ``jsonb`` and nests at most ``MAX_CONTEXT_DEPTH`` levels.

    A ``json`` value holding an escaped U+0000 or an unpaired surrogate (``"\\ud800"``) is valid
    JSON text that the cast to ``jsonb`` fails on, and that error failed every statement reading
    the row (each page, ``explain``, the change feed, ``doctor`` of its workspace): such a value
    is no document, as one nested too deep is. A ``jsonb`` value (the reference schema) never
    holds one, and is settled by its type alone; a ``json`` value's text (the value itself, no
    conversion) is searched only when it holds ``\\u0000`` or ``\\ud`` (any case).
    """
    text = sa.cast(document, sa.Text())
    unpaired = sa.func.regexp_replace(
        sa.func.replace(text, _param(_ESCAPED_BACKSLASH), _param("_")),
        _param(_SURROGATE_PAIR),
        _param("_"),
        _param("g"),
    )
    escapes_held = sa.case(
        (text.not_like(_param("%\\u%"), escape="!"), sa.true()),
        (sa.and_(*(sa.func.strpos(text, _param(e)) == 0 for e in _SUSPECT_ESCAPES)), sa.true()),
        else_=sa.not_(unpaired.op("~", is_comparison=True)(_param(_UNHOLDABLE_ESCAPE))),
    )
    castable = sa.case(
        (sa.func.pg_typeof(document) == sa.literal_column("'jsonb'::regtype"), sa.true()),
        (sa.not_(escapes_held), sa.false()),
        (
            sa.and_(
                sa.func.length(text) < _SHORTEST_LONG_RUN,
                sa.not_(text.op("~", is_comparison=True)(_param(_LONG_EXPONENT))),
            ),
            sa.true(),
        ),
        else_=sa.not_(_unholdable_number(text)),
    )
    shallow = pg_shallow(document)
    # A CASE: the one construct whose evaluation order PostgreSQL guarantees, so the cast is
    # never evaluated on a value it fails on.
    return sa.case((castable, shallow), else_=sa.false())


def _unholdable_number(text: Any) -> Any:
    """Whether valid JSON ``text`` holds a number that ``jsonb`` refuses (``numeric``'s
    bounds, above): each number outside the strings, parsed as ``numeric_in`` parses it."""
    bare = sa.func.regexp_replace(text, _param(_STRING), _param(""), _param("g"))
    matches = sa.func.regexp_matches(
        bare, _param(_NUMBER), _param("g"), type_=postgresql.ARRAY(sa.Text())
    )
    found = matches.column_valued("number")
    whole = found[1]
    fraction = sa.func.coalesce(sa.func.substr(found[2], 2), _param(""))
    written = sa.func.coalesce(sa.func.substr(found[3], 2), _param("0"))
    magnitude = sa.func.ltrim(sa.func.ltrim(written, _param("+-")), _param("0"))
    sign = sa.case((written.like(_param("-%")), _param("-")), else_=_param(""))
    exponent = sa.cast(
        sign.concat(sa.func.coalesce(sa.func.nullif(magnitude, ""), "0")), sa.BigInteger
    )
    significant = sa.func.ltrim(whole, _param("0"))
    # The decimal weight of the first nonzero digit, the exponent not yet applied.
    leading = sa.case(
        (significant != "", sa.func.length(significant) - 1),
        else_=sa.func.length(sa.func.ltrim(fraction, _param("0"))) - sa.func.length(fraction) - 1,
    )
    nonzero = sa.or_(significant != "", sa.func.ltrim(fraction, _param("0")) != "")
    overflows = sa.case(
        # Settled before the cast, which a longer exponent would overflow.
        (sa.func.length(magnitude) > 10, sa.true()),
        else_=sa.or_(
            sa.func.abs(exponent) >= _MAX_EXPONENT,
            sa.func.length(fraction) - exponent > _MAX_SCALE,
            sa.and_(nonzero, leading + exponent >= _MAX_WEIGHT),
        ),
    )
    return sa.exists(sa.select(found).where(overflows))


def _param(value: str) -> Any:
    # A parameter, not a literal: a literal's backslashes would depend on the server's
    # standard_conforming_strings.
    return sa.literal(value, sa.Text())


def sqlite_shallow(raw: Any) -> Any:
    """Whether valid JSON text nests at most ``MAX_CONTEXT_DEPTH`` levels.

    SQLite has no depth function, but ``json_valid`` refuses a document deeper than its own
    limit: wrapped in as many arrays as that limit exceeds ours, a document stays valid exactly
    when it is shallow enough. Text too short, or with too few brackets, to nest so deep is
    settled first, without the second parse (so nearly every row). The limit is the one of the
    SQLite library the statement runs on, so the wrapping is written when it is compiled for a
    dialect (``_SqliteShallow``).
    """
    return _SqliteShallow(raw)


class _SqliteShallow(FunctionElement[bool]):
    """``sqlite_shallow``, compiled for the dialect's own driver."""

    type = sa.Boolean()
    name = "sqlite_shallow"
    inherit_cache = True


@compiles(_SqliteShallow)
def _compile_shallow(element: _SqliteShallow, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy caches the compiled text per dialect (so per engine), and the probe per driver.
    (raw,) = element.clauses
    wraps = _sqlite_json_depth(_driver(compiler.dialect)) - MAX_CONTEXT_DEPTH
    brackets = sa.func.length(raw) - sa.func.length(
        sa.func.replace(sa.func.replace(raw, _text("["), _text("")), _text("{"), _text(""))
    )
    count = _number(wraps)
    left = sa.func.printf(_text("%.*c"), count, _text("["))
    right = sa.func.printf(_text("%.*c"), count, _text("]"))
    shallow = sa.case(
        (sa.func.length(raw) <= _number(2 * MAX_CONTEXT_DEPTH + 1), sa.true()),
        (brackets <= _number(MAX_CONTEXT_DEPTH), sa.true()),
        else_=sa.func.json_valid(left.concat(raw).concat(right)) == _number(1),
    )
    return compiler.process(shallow, **kw)


# Constants are written into the text: the statement's cache key knows no bind made while
# compiling it.
def _text(value: str) -> Any:
    return sa.literal_column("'" + value.replace("'", "''") + "'", sa.Text())


def _number(value: int) -> Any:
    return sa.literal_column(str(value), sa.Integer())


def _driver(dialect: Any) -> Any:
    """The DBAPI module whose SQLite library an engine runs on: ``dialect.dbapi`` (the standard
    ``sqlite3``, or pysqlite3's own); an asyncio adapter's synchronous module (aiosqlite runs
    the standard one in a thread); the standard one for a dialect without a driver (a
    statement compiled only to be shown)."""
    dbapi = getattr(dialect, "dbapi", None)
    if dbapi is None:
        return sqlite3
    return getattr(dbapi, "sqlite", dbapi)


@functools.cache
def _sqlite_json_depth(driver: Any) -> int:
    """The most levels ``json_valid`` takes in ``driver``'s SQLite library (2,000 before 3.45,
    1,000 since), probed once per driver in a database of its own."""
    low, high = MAX_CONTEXT_DEPTH, 100_000
    with contextlib.closing(driver.connect(":memory:")) as connection:
        while low < high:
            middle = (low + high + 1) // 2
            text = "[" * middle + "]" * middle
            if connection.execute("SELECT json_valid(?)", (text,)).fetchone()[0]:
                low = middle
            else:
                high = middle - 1
    return low
