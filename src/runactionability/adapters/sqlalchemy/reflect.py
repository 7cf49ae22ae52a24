"""Mappings derived from a host table's reflected column types.

A host names its table and, where they differ from the defaults, its column names and
vocabulary; how ids and instants are stored is read from the table itself. What the column types
cannot say is asked for: the zone of a ``timestamp without time zone`` or of ISO text, and the
unit of integer epoch timestamps. Every refusal is a ``ConfigurationError`` naming the column and
the fix, raised when the mapping is built, never a wrong answer later.

On SQLite a ``CHAR(32)`` id column is text: SQLAlchemy's ``Uuid`` declares one there (32 hex
digits, see ``ids``), and so do hosts keeping hex tokens; only the host knows which, so a uuid
one is mapped ``ids={...: "uuid"}`` (``doctor`` warns when it reads such a column as text). On
PostgreSQL a blank-padded ``char(n)`` id column is refused: PostgreSQL
compares it with text after stripping its blanks, so the ids the library reads ('acme    ') are
not the ids its statements match ('acme'), and nothing can compare both ways alike.

On PostgreSQL a ``context`` column must be ``json`` or ``jsonb``: the statements read it as
``jsonb``, and a text column is refused. Its valid JSON would be read one way by the SQL and
another by Python (unparsed text, every run ``invalid_context``), and one row of text that is
not JSON would make every statement that casts it fail (PostgreSQL 15 has no test that tells
such text apart without the error, and a ``CASE`` cannot catch it).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from runactionability.adapters.sqlalchemy._reading import Bind, build_read, check_bind
from runactionability.adapters.sqlalchemy.ids import IdType, IdTypes, StateIdTypes
from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping, StateTableMapping
from runactionability.adapters.sqlalchemy.vocabulary import check_keys
from runactionability.errors import ConfigurationError

_RUN_INSTANTS = ("created_at", "started_at", "completed_at")
_RUN_IDS = {"run": "id", "workspace": "workspace_id", "environment": "environment_id"}
_STATE_IDS = {"workspace": "workspace_id", "environment": "environment_id", "subject": "subject"}


@build_read
def reflect_runs(
    bind: Bind,
    /,
    table: str,
    *,
    schema: str | None = None,
    zone: str | None = None,
    epoch_unit: str | None = None,
    **overrides: Any,
) -> RunTableMapping:
    """The ``RunTableMapping`` of ``table``: ids and instants as its columns store them.

    ``overrides`` are the mapping's other fields (column names, vocabularies); an ``ids`` or
    ``timestamps`` given there is taken as it is instead of being derived. A host's idle
    Connection is left idle (``build_read``).
    """
    draft = RunTableMapping(table=table, schema=schema, **overrides)
    types = _column_types(bind, draft.table, draft.schema, _read_columns(draft))
    derived: dict[str, Any] = {}
    dialect = check_bind(bind).dialect.name
    if "ids" not in overrides:
        fields = dict(_RUN_IDS)
        if draft.subject is not None:
            fields["subject"] = "subject"
        derived["ids"] = IdTypes(**_id_types(draft, fields, types, dialect))
    if "timestamps" not in overrides:
        columns = [getattr(draft, field) for field in _RUN_INSTANTS]
        derived["timestamps"] = _instants(bind, draft.table, columns, types, zone, epoch_unit)
    derived.update(_run_value_types(bind, draft, types, overrides))
    context = types[draft.context]
    if not json_context(context, dialect):
        raise ConfigurationError(text_context_refusal(draft.table, draft.context, context))
    return RunTableMapping(table=table, schema=schema, **overrides, **derived)


def _run_value_types(
    bind: Bind, draft: RunTableMapping, types: Mapping[str, Any], overrides: Mapping[str, Any]
) -> dict[str, str]:
    """``status_type`` and ``outcome_type`` from the vocabulary columns' types, each key of
    their vocabularies checked against the column's type."""
    keys: dict[str, Mapping[str, object]] = {"status": draft.statuses, "outcome": draft.outcomes}
    if draft.lifecycle is not None:
        keys = {"status": draft.lifecycles}
    derived: dict[str, str] = {}
    for field, vocabulary in keys.items():
        column = draft.column_name(field)
        value_type = overrides.get(f"{field}_type") or value_type_of(
            bind, draft.table, column, types[column]
        )
        owner = f"RunTableMapping({draft.table!r})"
        check_keys(owner, column, value_type, vocabulary, stored_as=str(types[column]))
        derived[f"{field}_type"] = value_type
    return derived


def value_type_of(bind: Bind, table: str, column: str, reflected: Any) -> str:
    """What a status, outcome or lifecycle column holds (``VALUE_TYPES``), or a refusal saying
    what to map instead: a value of any other type the SQL and Python would read apart."""
    dialect = check_bind(bind).dialect.name
    named = f"{table}.{column}"
    if isinstance(reflected, sa.Integer):
        return "integer"
    if blank_padded(reflected, dialect):
        raise ConfigurationError(
            f"{named} is {reflected} (blank-padded char(n)): PostgreSQL compares its values "
            f"after stripping their blanks, the library reads them padded; store them as "
            f"varchar or text ({padded_fix(table, column, reflected)})"
        )
    if dialect == "postgresql" and isinstance(reflected, sa.Enum):
        raise ConfigurationError(
            f"{named} is the enum {reflected}, which PostgreSQL compares with no text the "
            f"adapter binds: map a view that selects it as text ({column}::text AS {column})"
        )
    if isinstance(reflected, sa.String | sa.types.NullType):
        return "collated_text" if _collated(bind, table, column, reflected) else "text"
    raise ConfigurationError(
        f"{named} is {reflected!r}, which the adapter cannot read as a vocabulary value: store "
        f"it as text or an integer, or map a view that selects it as text"
    )


@build_read
def reflect_state(
    bind: Bind,
    /,
    kind: str,
    table: str,
    *,
    schema: str | None = None,
    zone: str | None = None,
    epoch_unit: str | None = None,
    **overrides: Any,
) -> StateTableMapping:
    """The ``StateTableMapping`` of ``kind`` in ``table``, derived as ``reflect_runs`` does.

    A table without the default ``attributes`` column is mapped without one, unless
    ``attributes`` is named in ``overrides``.
    """
    if "attributes" not in overrides:
        present = _column_types(bind, table, schema, [])
        overrides["attributes"] = "attributes" if "attributes" in present else None
    draft = StateTableMapping(kind=kind, table=table, schema=schema, **overrides)
    types = _column_types(bind, draft.table, draft.schema, _read_columns(draft), draft.where)
    derived: dict[str, Any] = {}
    if "ids" not in overrides:
        dialect = check_bind(bind).dialect.name
        derived["ids"] = StateIdTypes(**_id_types(draft, _STATE_IDS, types, dialect))
    if "timestamps" not in overrides:
        derived["timestamps"] = _instants(
            bind, draft.table, [draft.proven_at], types, zone, epoch_unit
        )
    dialect = check_bind(bind).dialect.name
    reflected = types[draft.status]
    value_type = overrides.get("status_type") or value_type_of(
        bind, draft.table, draft.status, reflected
    )
    owner = f"StateTableMapping({kind!r}, {draft.table!r})"
    check_keys(owner, draft.status, value_type, draft.statuses or {}, stored_as=str(reflected))
    derived["status_type"] = value_type
    if "where" in overrides:
        overrides["where"] = {
            column: _filter_value(owner, column, wanted, types[column])
            for column, wanted in draft.where.items()
        }
    return StateTableMapping(kind=kind, table=table, schema=schema, **overrides, **derived)


def _collated(bind: Bind, table: str, column: str, reflected: Any) -> bool:
    """Whether a text column's collation may call distinct texts equal (``stated_collation``;
    a guess is taken as collated)."""
    return stated_collation(bind, table, column, reflected) is not False


def stated_collation(bind: Bind, table: str, column: str, reflected: Any) -> bool | None:
    """Whether a text column's collation may call distinct texts equal; None when guessed.

    PostgreSQL names a column's collation, and says whether it is deterministic (byte-exact).
    SQLite reflects none, so the column's own definition in the table's text is read: one that
    names a collation other than BINARY is collated. A column the text does not show, a view
    (its columns keep the collation of the tables it reads, which its text need not name) and a
    table main's schema does not hold (an attached database's) are guessed (None), and
    ``_collated`` takes them as collated: matching their text byte for byte costs a
    comparison, never an answer.
    """
    if check_bind(bind).dialect.name == "postgresql":
        name = getattr(reflected, "collation", None)
        if name is None:
            return False
        query = "SELECT collisdeterministic FROM pg_collation WHERE collname = :name"
        return not all(_scalars(bind, query, name))
    kinds = _scalars(bind, "SELECT type FROM sqlite_master WHERE name = :name", table)
    if kinds != ["table"]:
        return None
    (definition,) = _scalars(bind, "SELECT sql FROM sqlite_master WHERE name = :name", table)
    for part in _column_definitions(str(definition)):
        named = re.match(r"\s*[\"'`\[]?(\w+)", part)
        if named is not None and named.group(1).lower() == column.lower():
            found = re.findall(r"COLLATE\s+[\"'`\[]?(\w+)", part, re.IGNORECASE)
            return any(name.upper() != "BINARY" for name in found)
    return None


def _column_definitions(definition: str) -> list[str]:
    """The comma-separated parts of a ``CREATE TABLE`` text's column list (commas inside
    parentheses, such as ``VARCHAR(10, 2)`` or a ``CHECK``, do not split)."""
    body = definition[definition.find("(") + 1 : definition.rfind(")")]
    parts, depth, start = [], 0, 0
    for index, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(body[start:index])
            start = index + 1
    return [*parts, body[start:]]


def _scalars(bind: Bind, query: str, name: str) -> list[Any]:
    statement = sa.text(query).bindparams(name=name)
    if isinstance(bind, sa.Connection):
        return list(bind.execute(statement).scalars())
    with bind.connect() as connection:
        return list(connection.execute(statement).scalars())


def _filter_value(owner: str, column: str, wanted: str | int, reflected: Any) -> str | int:
    """A ``where`` value in its column's type, so that it binds as one (TOML's ``"1"`` is 1 in
    an integer column, and 1 is '1' in a text column); refused when the column cannot hold it."""
    if isinstance(reflected, sa.String):
        return str(wanted)
    if not isinstance(reflected, sa.Integer) or isinstance(wanted, int):
        return wanted
    try:
        if str(int(wanted)) == wanted:
            return int(wanted)
    except ValueError:
        pass
    raise ConfigurationError(
        f"{owner}: where column {column!r} is {reflected}, so its value must be an integer "
        f"such as 1 or '1', not {wanted!r}"
    )


def _read_columns(mapping: RunTableMapping | StateTableMapping) -> list[str]:
    """The columns the mapping's statements read, each of which the table must have."""
    return [column.name for column in mapping.table_clause().c]


def _column_types(
    bind: Bind, table: str, schema: str | None, names: list[str], where: Collection[str] = ()
) -> dict[str, Any]:
    """The reflected type of every column of ``table``; each of ``names`` must be one."""
    try:
        columns = sa.inspect(check_bind(bind)).get_columns(table, schema=schema)
    except sa.exc.NoSuchTableError:
        where = f"{schema}.{table}" if schema else table
        raise ConfigurationError(f"no table {where!r} to reflect a mapping from") from None
    types = {column["name"]: column["type"] for column in columns}
    missing = [name for name in names if name not in types]
    if missing:
        hint = (
            "name a column of the table in the mapping's where filter"
            if set(missing) & set(where)
            else "name the host's column in the mapping (e.g. created_at='inserted_at'), or "
            "None where the field is optional"
        )
        raise ConfigurationError(
            f"table {table!r} has no column {', '.join(map(repr, missing))}: {hint}"
        )
    return types


def _id_types(
    draft: Any, fields: Mapping[str, str], types: Mapping[str, Any], dialect: str
) -> dict[str, Any]:
    """The ``IdType`` of each id field (``fields`` maps it to the mapping attribute naming it)."""
    # A field mapped to no column (a state kind without a subject) keeps its default type.
    return {
        field: _id_type(draft.table, column, types[column], dialect)
        for field, attribute in fields.items()
        if (column := getattr(draft, attribute)) is not None
    }


def id_type_of(reflected: Any, dialect: str) -> IdType | None:
    """The ``IdType`` a reflected column type holds; None when it holds no id of the library's."""
    if isinstance(reflected, sa.Integer):
        return "integer"
    if isinstance(reflected, sa.Uuid):
        return "uuid"
    if isinstance(reflected, sa.String):
        return "text"
    return None


def blank_padded(reflected: Any, dialect: str) -> bool:
    """Whether a reflected id column is PostgreSQL's blank-padded ``char(n)`` (see the module)."""
    return dialect == "postgresql" and isinstance(reflected, sa.CHAR)


def padded_fix(table: str, column: str, reflected: Any) -> str:
    """How to store the ids of a ``blank_padded`` column so that they compare as they read."""
    length = getattr(reflected, "length", None)
    varchar = "text" if length is None else f"varchar({length})"
    return f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {varchar}"


def json_context(reflected: Any, dialect: str) -> bool:
    """Whether the statements can read a context column of ``reflected`` type (see the module).

    A type that tells nothing (SQLAlchemy's ``NullType``) is not judged; a DOMAIN is judged by
    the type it is declared over, which PostgreSQL's JSON operators read it as.
    """
    while isinstance(reflected, postgresql.DOMAIN):
        reflected = reflected.data_type
    if dialect != "postgresql" or isinstance(reflected, sa.types.NullType):
        return True
    return isinstance(reflected, sa.JSON)


def text_context_refusal(table: str, column: str, reflected: Any) -> str:
    """The refusal of a context column ``json_context`` rejects: why, and how to store it."""
    return (
        f"{table}.{column} is {reflected}, but a run's context on PostgreSQL must be json or "
        f"jsonb: its statements read the context as jsonb, so text JSON would be misread and "
        f"one row of text that is not JSON would fail every request; store it as jsonb "
        f"(ALTER TABLE {table} ALTER COLUMN {column} TYPE jsonb USING {column}::jsonb, after "
        f"correcting or nulling the rows that are not JSON)"
    )


def _id_type(table: str, column: str, reflected: Any, dialect: str) -> IdType:
    if blank_padded(reflected, dialect):
        raise ConfigurationError(
            f"{table}.{column} is {reflected} (blank-padded char(n)), whose ids PostgreSQL "
            f"compares with text after stripping their blanks: runs and evidence would be "
            f"misread; store them as varchar or text ({padded_fix(table, column, reflected)})"
        )
    id_type = id_type_of(reflected, dialect)
    if id_type is not None:
        return id_type
    raise ConfigurationError(
        f"{table}.{column} is {reflected!r}, which is no text, integer or uuid id: pass "
        f"ids={{...}} to say how to compare it"
    )


def _instants(
    bind: Bind,
    table: str,
    columns: list[str],
    types: Mapping[str, Any],
    zone: str | None,
    epoch_unit: str | None,
) -> Instants:
    """The one storage of ``columns`` (every timestamp of a table is stored alike)."""
    dialect = check_bind(bind).dialect.name
    found = {
        column: _instant(dialect, table, column, types[column], zone, epoch_unit)
        for column in columns
    }
    distinct = set(found.values())
    if len(distinct) > 1:
        described = ", ".join(f"{column} as {instants}" for column, instants in found.items())
        raise ConfigurationError(
            f"the timestamps of {table!r} are stored differently ({described}); a mapping "
            f"reads every timestamp of a table alike"
        )
    instants = distinct.pop()
    instants.check_dialect(dialect)
    return instants


def _instant(
    dialect: str, table: str, column: str, reflected: Any, zone: str | None, epoch_unit: str | None
) -> Instants:
    named = f"{table}.{column}"
    if isinstance(reflected, sa.DateTime) and reflected.timezone:
        return Instants.timestamptz()
    if isinstance(reflected, sa.Integer):
        if epoch_unit is None:
            raise ConfigurationError(
                f"{named} is an integer: pass epoch_unit='s', 'ms' or 'us' to say what it counts"
            )
        return Instants.parse(f"epoch_{epoch_unit}")
    if isinstance(reflected, sa.DateTime | sa.String):
        text = dialect != "postgresql" or isinstance(reflected, sa.String)
        if zone is None:
            stores = "ISO-8601 text" if text else "wall-clock times without a time zone"
            raise ConfigurationError(
                f"{named} stores {stores}: pass zone='UTC' (or the IANA zone the host writes "
                f"them in) to say which instants they are"
            )
        return Instants.iso_text(zone) if text else Instants.naive(zone)
    raise ConfigurationError(
        f"{named} is {reflected!r}, which holds no instant the adapter reads: pass timestamps="
        f"Instants... to say how it is stored"
    )
