"""What a mapping says about its tables, against the column types the tables declare.

A mapping built by hand, or from a configuration file that names its storage instead of
reflecting it, states how each table stores its instants and ids; until a host runs ``doctor``,
nothing checks that statement. A wrong one is a silent wrong answer on SQLite (ISO-8601 text read
as integer microseconds: every timestamp invalid, every problem run sent to manual review) and a
failing statement on PostgreSQL. One reflection of the mapped tables' columns, and no row, tells
most such errors apart: ``mapping_mismatches`` lists them, ``warn_mapping_mismatches`` issues them
as one ``MappingMismatchWarning``. What only the rows can tell (the unit of epoch integers, the
zone of wall-clock times) is left to ``doctor``.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine.reflection import ObjectKind
from sqlalchemy.types import TypeEngine

from runactionability.adapters.sqlalchemy._reading import Bind, build_read, check_bind
from runactionability.adapters.sqlalchemy.ids import IdType, declared_kinds
from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping, StateTableMapping
from runactionability.adapters.sqlalchemy.reflect import (
    blank_padded,
    id_type_of,
    json_context,
    padded_fix,
    stated_collation,
    text_context_refusal,
    value_type_of,
)
from runactionability.errors import ConfigurationError, MappingMismatchWarning

_Reads = tuple[frozenset[str], str, str, str]
"""(the storage forms that read a column, what it holds, the fix in Python, in a file)."""

_ISO_TEXT: _Reads = (
    frozenset({"iso_text"}),
    "ISO-8601 text",
    "timestamps=Instants.iso_text()",
    'timestamps = "iso_text"',
)
_EPOCH = (
    "timestamps=Instants.epoch('s'|'ms'|'us')",
    'timestamps = "epoch_s" (or epoch_ms, epoch_us)',
)


@attrs.frozen
class Mismatch:
    """One column whose declared type the mapping does not read as it is stored."""

    section: str
    """Where a configuration file maps the table: ``runs`` or ``states.<kind>``."""
    table: str
    column: str
    """The column, or the table's columns of one declared type, joined by ", "."""
    declared: str
    holds: str
    mapped: str
    python: str
    file: str
    fix: str | None = None
    """A fix in the database instead of the mapping (``python`` and ``file`` are then empty)."""
    refused: bool = False
    """No mapping reads the column safely: the service is refused, not warned (``__str__`` is
    the whole refusal)."""

    def __str__(self) -> str:
        if self.refused and self.fix is not None:
            return self.fix
        if self.fix is not None:
            return (
                f"{self.table}: {self.column} is {self.declared}, which holds {self.holds}, "
                f"so the mapping misreads it as {self.mapped}; {self.fix}"
            )
        several = ", " in self.column
        return (
            f"{self.table}: {self.column} {'are' if several else 'is'} {self.declared}, which "
            f"{'hold' if several else 'holds'} {self.holds}, but the mapping reads "
            f"{'them' if several else 'it'} as {self.mapped}; map {self.python} (in a "
            f"configuration file: {self.file} in [{self.section}], or reflect = true)"
        )


def _timestamp_reads(declared: TypeEngine[Any], dialect: str) -> _Reads | None:
    """How a column of ``declared`` type is read; None when its type does not tell."""
    if dialect == "postgresql" and isinstance(declared, sa.DateTime):
        if declared.timezone:
            return (
                frozenset({"native", "timestamptz"}),
                "instants with a time zone",
                "timestamps=Instants.timestamptz()",
                'timestamps = "timestamptz"',
            )
        return (
            frozenset({"naive"}),
            "wall-clock times without a time zone",
            "timestamps=Instants.naive(zone=...), the zone the host writes in",
            'timestamps = "naive:<zone>"',
        )
    # SQLAlchemy's DateTime stores ISO-8601 text on SQLite, and the reference storage there
    # (native) is integer microseconds, which any integer column declares alike.
    if isinstance(declared, sa.String | sa.DateTime):
        return _ISO_TEXT
    if isinstance(declared, sa.Integer):
        forms = {"epoch"} if dialect == "postgresql" else {"epoch", "native"}
        return frozenset(forms), "integers", *_EPOCH
    return None


def _described(instants: Instants, dialect: str) -> str:
    if instants.form == "native":
        stored = "timestamptz" if dialect == "postgresql" else "integer UTC microseconds"
        return f"timestamps='native' ({stored})"
    return f"timestamps={str(instants)!r}"


def _timestamp_mismatches(
    columns: Mapping[str, TypeEngine[Any]],
    names: Iterable[str],
    instants: Instants,
    dialect: str,
    where: tuple[str, str],
) -> list[Mismatch]:
    """One mismatch per declared type: a table's timestamps are mapped alike, so they are
    misread alike and take one fix."""
    misread: dict[tuple[str, _Reads], list[str]] = defaultdict(list)
    for name in dict.fromkeys(names):
        declared = columns.get(name)
        reads = None if declared is None else _timestamp_reads(declared, dialect)
        if reads is not None and instants.form not in reads[0]:
            misread[(str(declared), reads)].append(name)
    section, table = where
    mapped = _described(instants, dialect)
    return [
        Mismatch(section, table, ", ".join(names), declared, reads[1], mapped, *reads[2:])
        for (declared, reads), names in misread.items()
    ]


def _id_mismatches(
    columns: Mapping[str, TypeEngine[Any]],
    ids: Mapping[str, tuple[str | None, IdType]],
    setting: str,
    where: tuple[str, str],
    dialect: str,
) -> list[Mismatch]:
    """``ids`` maps each id field to its column and the type the mapping compares it as."""
    found = []
    section, table = where
    for field, (column, mapped) in ids.items():
        declared = None if column is None else columns.get(column)
        if column is not None and blank_padded(declared, dialect):
            found.append(_padded(where, column, declared, f"{setting}({field}={mapped!r})"))
            continue
        kind = None if declared is None else id_type_of(declared, dialect)
        if column is None or kind is None or kind in declared_kinds(mapped, dialect):
            continue
        found.append(
            Mismatch(
                section,
                table,
                column,
                str(declared),
                f"{kind} ids",
                f"{setting}({field}={mapped!r})",
                f"ids={setting}({field}={kind!r})",
                f'ids = {{ {field} = "{kind}" }}',
            )
        )
    return found


def _padded(where: tuple[str, str], column: str, declared: Any, mapped: str) -> Mismatch:
    section, table = where
    return Mismatch(
        section,
        table,
        column,
        str(declared),
        "blank-padded ids that PostgreSQL compares with text after stripping their blanks",
        mapped,
        "",
        "",
        fix=(
            f"store them as varchar or text ({padded_fix(table, column, declared)}): no "
            "mapping reads them as they compare"
        ),
    )


def _run_mismatches(
    columns: Mapping[str, TypeEngine[Any]], runs: RunTableMapping, dialect: str
) -> list[Mismatch]:
    where = ("runs", runs.table)
    ids = runs.ids
    typed = {
        "run": (runs.id, ids.run),
        "workspace": (runs.workspace_id, ids.workspace),
        "environment": (runs.environment_id, ids.environment),
        "subject": (runs.subject, ids.subject),
    }
    instants = (runs.created_at, runs.started_at, runs.completed_at)
    return [
        *_timestamp_mismatches(columns, instants, runs.timestamps, dialect, where),
        *_id_mismatches(columns, typed, "IdTypes", where, dialect),
        *_context_mismatches(columns, runs, dialect),
    ]


def _context_mismatches(
    columns: Mapping[str, TypeEngine[Any]], runs: RunTableMapping, dialect: str
) -> list[Mismatch]:
    declared = columns.get(runs.context)
    if declared is None or json_context(declared, dialect):
        return []
    refusal = text_context_refusal(runs.table, runs.context, declared)
    held = "JSON as text"
    return [
        Mismatch(
            "runs", runs.table, runs.context, str(declared), held, "jsonb", "", "", refusal, True
        )
    ]


def _state_mismatches(
    columns: Mapping[str, TypeEngine[Any]], state: StateTableMapping, dialect: str
) -> list[Mismatch]:
    where = (f"states.{state.kind}", state.table)
    ids = state.ids
    typed = {
        "workspace": (state.workspace_id, ids.workspace),
        "environment": (state.environment_id, ids.environment),
        "subject": (state.subject, ids.subject),
    }
    return [
        *_timestamp_mismatches(columns, [state.proven_at], state.timestamps, dialect, where),
        *_id_mismatches(columns, typed, "StateIdTypes", where, dialect),
    ]


_SAFE_READS = {("text", "collated_text")}
"""(what a column holds, what the mapping says) pairs that match no value otherwise than the
readers do: byte-exact text matched byte for byte again only costs a comparison."""


def _vocabulary_mismatches(
    bind: Bind,
    columns: Mapping[str, TypeEngine[Any]],
    where: tuple[str, str],
    typed: Mapping[str, tuple[str, str]],
) -> list[Mismatch]:
    """Each vocabulary column (``typed``: the mapping's setting -> (column, value type it says))
    whose declared type holds values the statements would match otherwise than the readers read
    them: refused, since no warning makes a count agree with its pages (a collation SQLite
    only guesses, a view's or an attached table's, is warned instead)."""
    section, table = where
    found = []
    for setting, (column, mapped) in typed.items():
        declared = columns.get(column)
        if declared is None or isinstance(declared, sa.types.NullType):
            continue
        try:
            holds = value_type_of(bind, table, column, declared)
        except ConfigurationError as exc:
            refusal = str(exc)
        else:
            if holds == mapped or (holds, mapped) in _SAFE_READS:
                continue
            if mapped == "text" and stated_collation(bind, table, column, declared) is None:
                # SQLite states no collation for a view's or an attached table's column: a
                # guess warns (naming the key), where only a stated collation refuses.
                fix = (
                    f"if that collation may call distinct texts equal, map {setting}="
                    f'"collated_text" (in [{section}] of a configuration file, or reflect = true)'
                )
                unstated = "text whose collation is not stated"
                found.append(
                    Mismatch(section, table, column, str(declared), unstated, mapped, "", "", fix)
                )
                continue
            refusal = (
                f"{table}.{column} is {declared}, which holds {holds} values, but the mapping "
                f"reads it as {setting}={mapped!r}, so its statements and its readers would "
                f"match stored values differently; map {setting}={holds!r} (in a "
                f'configuration file: {setting} = "{holds}" in [{section}], or reflect = true)'
            )
        found.append(
            Mismatch(section, table, column, str(declared), "", mapped, "", "", refusal, True)
        )
    return found


def _declared_columns(
    bind: Bind, tables: Iterable[tuple[str | None, str]]
) -> dict[tuple[str | None, str], dict[str, TypeEngine[Any]]]:
    """Each existing table's (or view's) columns, in one reflection per schema; a missing table
    is left out (its statements say so, as they always did)."""
    by_schema: dict[str | None, set[str]] = defaultdict(set)
    for schema, table in tables:
        by_schema[schema].add(table)
    inspector = sa.inspect(check_bind(bind))
    found: dict[tuple[str | None, str], dict[str, TypeEngine[Any]]] = {}
    for schema, names in by_schema.items():
        reflected = inspector.get_multi_columns(
            schema=schema, filter_names=sorted(names), kind=ObjectKind.ANY
        )
        for (_, table), columns in reflected.items():
            found[(schema, table)] = {column["name"]: column["type"] for column in columns}
    return found


@build_read
def mapping_mismatches(
    bind: Bind, runs: RunTableMapping, states: Mapping[str, StateTableMapping]
) -> list[Mismatch]:
    """Every mapped id and timestamp column whose declared type the mapping misreads.

    A column whose type tells nothing (a view's computed column, SQLite's untyped column) and a
    table that does not exist are not judged here. A host's idle Connection is left idle.
    """
    dialect = check_bind(bind).dialect.name
    tables = {(runs.schema, runs.table)} | {(s.schema, s.table) for s in states.values()}
    declared = _declared_columns(bind, tables)
    columns = declared.get((runs.schema, runs.table), {})
    found = _run_mismatches(columns, runs, dialect)
    vocabulary = {"status_type": (runs.column_name("status"), runs.status_type)}
    if runs.lifecycle is None:
        vocabulary["outcome_type"] = (runs.outcome, runs.outcome_type)
    found += _vocabulary_mismatches(bind, columns, ("runs", runs.table), vocabulary)
    for state in states.values():
        columns = declared.get((state.schema, state.table), {})
        found += _state_mismatches(columns, state, dialect)
        where = (f"states.{state.kind}", state.table)
        typed = {"status_type": (state.status, state.status_type)}
        found += _vocabulary_mismatches(bind, columns, where, typed)
    return found


def warn_mapping_mismatches(
    bind: Bind,
    runs: RunTableMapping,
    states: Mapping[str, StateTableMapping],
    *,
    stacklevel: int = 2,
) -> list[Mismatch]:
    """``mapping_mismatches``, issued as one ``MappingMismatchWarning`` when there is any.

    A refused mismatch (``Mismatch.refused``) raises ``ConfigurationError`` instead: its
    statements would fail every request of the workspace on one bad row.
    """
    found = mapping_mismatches(bind, runs, states)
    refused = [str(mismatch) for mismatch in found if mismatch.refused]
    if refused:
        raise ConfigurationError("; ".join(refused))
    if found:
        listed = "\n".join(f"- {mismatch}" for mismatch in found)
        warnings.warn(
            MappingMismatchWarning(
                "the mapping disagrees with the column types the tables declare, so its "
                "statements fail or misread every affected row (a misread timestamp sends "
                f"every problem run to manual review):\n{listed}"
            ),
            stacklevel=stacklevel + 1,
        )
    return found
