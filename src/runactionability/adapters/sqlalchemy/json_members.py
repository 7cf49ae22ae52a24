"""A context member its object repeats with different values, found in SQL.

JSON leaves a repeated member name undefined, and the readers disagree: SQLite's
``json_extract`` finds the first, PostgreSQL's ``json`` operators, a cast to ``jsonb`` and
``json.loads`` the last. A subject read from such a context would settle a run on evidence about
one of two subjects, a different one per engine. Python reads no value for such a member
(``types.read_json_text``), so the run has no subject (``missing_correlation``); these
predicates make the SQL read none either. A ``jsonb`` value has kept one member per name since
it was stored, so nothing is asked of it.

Each predicate searches the text for the quoted name twice before it walks the members: a
context that names its subject once (every context a reference writer stores) is settled by two
``instr``/``strpos`` calls.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from runactionability.adapters.sqlalchemy.json_depth import pg_readable


def repeated_member(document: Any, name: Any, dialect: str) -> Any:
    """Whether a stored context ``document`` repeats its top-level member ``name`` with
    different values; false for a value that is no JSON text (SQLite) or that ``jsonb`` cannot
    hold (PostgreSQL), which the predicates would fail on, and for a ``jsonb`` value."""
    if dialect == "postgresql":
        jsonb = sa.func.pg_typeof(document) == sa.literal_column("'jsonb'::regtype")
        return sa.case(
            (jsonb, sa.false()),
            (pg_readable(document), pg_repeated(document, name)),
            else_=sa.false(),
        )
    raw = sa.type_coerce(document, sa.Text())
    text = sa.and_(sa.func.typeof(raw) == sa.literal_column("'text'"), sa.func.json_valid(raw) == 1)
    return sa.case((text, sqlite_repeated(raw, name)), else_=sa.false())


def sqlite_repeated(raw: Any, name: Any) -> Any:
    """Whether SQLite JSON text ``raw`` (known valid) holds member ``name`` of its top-level
    object more than once with different values (JSON type and value: ``"7"`` and ``7`` differ,
    as ``7`` and ``7.0`` do)."""
    quoted = sa.func.json_quote(name)
    first = sa.func.instr(raw, quoted)
    twice = sa.func.instr(sa.func.substr(raw, first + sa.func.length(quoted)), quoted) > 0
    members = sa.func.json_each(raw).table_valued("key", "type", "value").alias()
    values = (
        sa.select(sa.func.count(sa.distinct(members.c.type.concat(":").concat(members.c.value))))
        .where(members.c.key == name)
        .correlate_except(members)
    )
    return sa.case((sa.and_(first > 0, twice), values.scalar_subquery() > 1), else_=sa.false())


def sqlite_path_name(path: Any) -> Any:
    """The member name of a SQLite path ``$."name"`` (a quoted JSON string after ``$.``)."""
    return sa.func.json_extract(sa.literal("[").concat(sa.func.substr(path, 3)).concat("]"), "$[0]")


def pg_repeated(document: Any, name: Any) -> Any:
    """Whether PostgreSQL ``json`` value ``document`` (known castable to ``jsonb``) holds member
    ``name`` of its top-level object more than once with different ``jsonb`` values.

    A name may be written with escapes, which the text search would miss: text holding a
    backslash is walked too.
    """
    text = sa.cast(document, sa.Text())
    quoted = sa.cast(sa.func.to_json(sa.cast(name, sa.Text())), sa.Text())
    first = sa.func.strpos(text, quoted)
    twice = sa.func.strpos(sa.func.substr(text, first + sa.func.length(quoted)), quoted) > 0
    suspect = sa.or_(sa.and_(first > 0, twice), sa.func.strpos(text, "\\") > 0)
    values = _pg_values(document)
    # The document is a column of an enclosing statement's row: correlated explicitly, since
    # SQLAlchemy's FROM linter otherwise calls the function's FROM a cartesian product with it.
    distinct = (
        sa.select(
            sa.func.count(
                sa.distinct(sa.cast(sa.cast(values.c.value, postgresql.JSONB), sa.Text()))
            )
        )
        .where(values.c.key == name)
        .correlate_except(values)
    )
    is_object = sa.func.json_typeof(sa.cast(document, postgresql.JSON)) == "object"
    return sa.case((sa.and_(suspect, is_object), distinct.scalar_subquery() > 1), else_=sa.false())


def pg_without_repeated(document: Any, read: Any) -> Any:
    """``read`` (``document`` as ``jsonb``) without the top-level members that ``json`` value
    ``document`` repeats with different values: what ``types.read_json_text`` keeps of them.

    A ``jsonb`` value is ``read`` as is.
    """
    values = _pg_values(document)
    repeated = (
        sa.select(values.c.key)
        .correlate_except(values)
        .group_by(values.c.key)
        .having(
            sa.func.count(
                sa.distinct(sa.cast(sa.cast(values.c.value, postgresql.JSONB), sa.Text()))
            )
            > 1
        )
    )
    found = repeated.subquery()
    none = sa.literal_column("'{}'::text[]", postgresql.ARRAY(sa.Text()))
    names = sa.select(sa.func.coalesce(sa.func.array_agg(found.c.key), none)).scalar_subquery()
    json_object = sa.and_(
        sa.func.pg_typeof(document) != sa.literal_column("'jsonb'::regtype"),
        sa.func.json_typeof(sa.cast(document, postgresql.JSON)) == "object",
    )
    return sa.case((json_object, read.op("-")(names)), else_=read)


def _pg_values(document: Any) -> Any:
    return (
        sa.func.json_each(sa.cast(document, postgresql.JSON)).table_valued("key", "value").alias()
    )
