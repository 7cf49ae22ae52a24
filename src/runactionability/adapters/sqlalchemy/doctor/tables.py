"""What the whole table says, in bounded statements: its columns and their types, its stored
vocabulary and its run types (grouped counts, most frequent first, at most ``VALUES_LIMIT``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

from runactionability.adapters.sqlalchemy.ids import declared_kinds
from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping, StateTableMapping
from runactionability.adapters.sqlalchemy.reflect import (
    id_type_of,
    json_context,
    text_context_refusal,
)
from runactionability.adapters.sqlalchemy.types import CollatedText, exact_text
from runactionability.catalog import OperationCatalog
from runactionability.findings import Finding, FindingCode, Severity
from runactionability.model import OperationRun, RunOutcome, RunStatus
from runactionability.policies.base import Family

VALUES_LIMIT = 200
"""Distinct values read per grouped column: the most frequent ones, which hold the rows."""

IdExpectation = tuple[str, str, frozenset[str]]
"""(the ``IdTypes`` field, the column, the id types the mapping compares that column as)."""


def reflected_columns(
    connection: sa.Connection, table: str, schema: str | None
) -> dict[str, TypeEngine[Any]] | None:
    """The table's columns and their reflected types, or None when there is no such table."""
    inspector = sa.inspect(connection)
    if not inspector.has_table(table, schema=schema):
        return None
    return {column["name"]: column["type"] for column in inspector.get_columns(table, schema)}


def context_findings(
    columns: Mapping[str, TypeEngine[Any]], mapping: RunTableMapping, dialect: str
) -> list[Finding]:
    """A context column the ports refuse to read (``context_check``), as one error: the sample
    cannot be read through them."""
    declared = columns.get(mapping.context)
    if declared is None or json_context(declared, dialect):
        return []
    table, column = mapping.table, mapping.context
    return [
        Finding(
            code=FindingCode.READ_FAILED,
            severity=Severity.ERROR,
            message=text_context_refusal(table, column, declared),
            fix=f"ALTER TABLE {table} ALTER COLUMN {column} TYPE jsonb USING {column}::jsonb",
            table=table,
            column=column,
        )
    ]


def missing_columns(
    columns: Mapping[str, TypeEngine[Any]], names: Iterable[str], table: str
) -> list[Finding]:
    """An error per mapped column the table lacks."""
    return [
        Finding(
            code=FindingCode.MISSING_TABLE,
            severity=Severity.ERROR,
            message=f"{table} has no column {name!r}, which the mapping names",
            fix=f"name {table}'s own column in the mapping",
            table=table,
            column=name,
        )
        for name in dict.fromkeys(names)
        if name not in columns
    ]


# The storage a PostgreSQL column's declared type holds, and the mapping that reads it (in
# Python, then as a configuration file spells it).
_DECLARED_STORAGE = (
    (
        sa.Integer,
        "epoch",
        "integers",
        "Instants.epoch('s'|'ms'|'us'), the unit the host writes "
        '(in runactionability.toml: timestamps = "epoch_s"|"epoch_ms"|"epoch_us")',
    ),
    (
        sa.String,
        "iso_text",
        "text",
        "Instants.iso_text() if it holds ISO-8601 text "
        '(in runactionability.toml: timestamps = "iso_text")',
    ),
)


def _declared_form(declared: TypeEngine[Any]) -> tuple[set[str], str, str] | None:
    """The forms that read a column of ``declared`` type, what it holds and the fix; None when
    no storage reads it."""
    if isinstance(declared, sa.DateTime):
        if declared.timezone:
            return (
                {"native", "timestamptz"},
                "instants",
                'Instants.timestamptz() (in runactionability.toml: timestamps = "timestamptz")',
            )
        return (
            {"naive"},
            "wall-clock times",
            "Instants.naive(zone=...), the zone the host writes in "
            '(in runactionability.toml: timestamps = "naive:<zone>")',
        )
    for kind, form, holds, fix in _DECLARED_STORAGE:
        if isinstance(declared, kind):
            return {form}, holds, fix
    return None


def timestamp_type_findings(
    columns: Mapping[str, TypeEngine[Any]],
    names: Iterable[str],
    instants: Instants,
    *,
    table: str,
    dialect: str,
) -> list[Finding]:
    """An error per timestamp column whose declared type the mapping's storage does not read.

    PostgreSQL only: there a column's type decides what the statements may compare it with (an
    integer or text column compared as ``timestamptz`` fails every statement, and a ``timestamp``
    read as ``timestamptz`` is shifted by the session's zone). SQLite stores any value in any
    column, so there the sampled values tell (``timestamp_findings``).
    """
    if dialect != "postgresql":
        return []
    findings = []
    for name in dict.fromkeys(names):
        declared = columns[name]
        reads = _declared_form(declared)
        if reads is not None and instants.form in reads[0]:
            continue
        holds, fix = ("no instants", "store instants") if reads is None else reads[1:]
        findings.append(
            Finding(
                code=FindingCode.UNREADABLE_TIMESTAMP,
                severity=Severity.ERROR,
                message=(
                    f"{table}.{name} is {declared}, which holds {holds}, but the mapping reads "
                    f"it as timestamps={str(instants)!r}: its statements fail or misread it"
                ),
                fix=f"map timestamps={fix}",
                table=table,
                column=name,
            )
        )
    return findings


def run_id_expectations(mapping: RunTableMapping, dialect: str) -> list[IdExpectation]:
    """The id columns of a runs table and the types the mapping compares them as."""
    ids = mapping.ids
    expected: list[IdExpectation] = [
        ("run", mapping.id, declared_kinds(ids.run, dialect)),
        ("workspace", mapping.workspace_id, declared_kinds(ids.workspace, dialect)),
        ("environment", mapping.environment_id, declared_kinds(ids.environment, dialect)),
    ]
    if mapping.subject is not None:
        expected.append(("subject", mapping.subject, declared_kinds(ids.subject, dialect)))
    return expected


def state_id_expectations(mapping: StateTableMapping, dialect: str) -> list[IdExpectation]:
    """The id columns of a state table and the types the mapping compares them as."""
    ids = mapping.ids
    expected: list[IdExpectation] = [
        ("workspace", mapping.workspace_id, declared_kinds(ids.workspace, dialect)),
        ("environment", mapping.environment_id, declared_kinds(ids.environment, dialect)),
    ]
    if mapping.subject is not None:
        expected.append(("subject", mapping.subject, declared_kinds(ids.subject, dialect)))
    return expected


def id_type_findings(
    columns: Mapping[str, TypeEngine[Any]],
    expected: Sequence[IdExpectation],
    *,
    table: str,
    setting: str,
    dialect: str,
) -> list[Finding]:
    """An error per id column whose declared type is not the one the mapping compares it as."""
    findings = []
    for field, column, kinds in expected:
        declared = columns.get(column)
        kind = None if declared is None else id_type_of(declared, dialect)
        if kind is None or kind in kinds:
            continue
        findings.append(
            Finding(
                code=FindingCode.ID_TYPE,
                severity=Severity.ERROR,
                message=(
                    f"{table}.{column} is {kind} ({declared}) but the mapping compares the "
                    f"{field} id as {' or '.join(sorted(kinds))}: lookups fail or match nothing"
                ),
                fix=(
                    f"map ids={setting}({field}={kind!r}) "
                    f'(in runactionability.toml: ids = {{ {field} = "{kind}" }})'
                ),
                table=table,
                column=column,
            )
        )
    return findings


def _value_kind(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return "integer"
    if isinstance(value, str):
        try:
            uuid.UUID(value)
        except ValueError:
            return "text"
        return "uuid"
    return "text"


_RUN_VALUES: Mapping[str, Callable[[OperationRun], object]] = {
    "run": lambda run: run.id,
    "workspace": lambda run: run.workspace_id,
    "environment": lambda run: run.environment_id,
}


def id_value_findings(
    runs: Sequence[OperationRun],
    expected: Sequence[IdExpectation],
    *,
    table: str,
    skip: Iterable[str],
) -> list[Finding]:
    """An error per id column whose sampled values are of another type than it is compared as.

    SQLite stores any value in any column (and a view declares no type), so text can sit in an
    integer id column: such a run is never found by its id.
    """
    findings = []
    skipped = set(skip)
    for field, column, kinds in expected:
        read = _RUN_VALUES.get(field)
        if read is None or column in skipped:
            continue
        # A uuid is also text, and text compared as text is fine.
        accepted = kinds | ({"uuid"} if "text" in kinds else set())
        wrong = [
            value
            for run in runs
            if (kind := _value_kind(value := read(run))) is not None and kind not in accepted
        ]
        if wrong:
            findings.append(
                Finding(
                    code=FindingCode.ID_TYPE,
                    severity=Severity.ERROR,
                    message=(
                        f"{table}.{column}: {len(wrong)} of {len(runs)} sampled {field} ids are "
                        f"not {' or '.join(sorted(kinds))} (e.g. {wrong[0]!r}), which the "
                        "mapping compares them as"
                    ),
                    fix=f"correct these rows, or map the {field} id as the type they hold",
                    table=table,
                    column=column,
                    count=len(wrong),
                    example=str(wrong[0]),
                )
            )
    return findings


def grouped(
    connection: sa.Connection,
    column: sa.ColumnElement[Any],
    where: Sequence[sa.ColumnElement[bool]] = (),
) -> list[tuple[Any, int]]:
    """The column's stored values with their row counts, most frequent first (bounded), among
    the rows ``where`` keeps (a state mapping's ``where``: the rows of its kind). A collated
    column is grouped byte for byte, as the mapping reads it: its collation would count
    'FAILED' as the 'failed' it equals."""
    count = sa.func.count().label("rows")
    if isinstance(column.type, CollatedText):
        column = exact_text(column, connection.dialect.name)
    statement = (
        sa.select(sa.type_coerce(column, sa.types.NullType()).label("value"), count)
        .where(*where)
        .group_by(column)
        .order_by(count.desc())
        .limit(VALUES_LIMIT)
    )
    return [(row.value, row.rows) for row in connection.execute(statement)]


def _listed(values: Sequence[tuple[Any, int]]) -> str:
    shown = ", ".join(f"{value!r} ({rows})" for value, rows in values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def _unmapped(table: str, column: str, values: Sequence[tuple[Any, int]], setting: str) -> Finding:
    rows = sum(count for _, count in values)
    return Finding(
        code=FindingCode.UNMAPPED_VALUE,
        severity=Severity.ERROR,
        message=(
            f"{table}.{column}: {rows} rows hold {len(values)} "
            f"value{'s' if len(values) > 1 else ''} the mapping does not list: "
            f"{_listed(values)}; their runs need manual review"
        ),
        fix=f"add each value to the mapping's {setting} with the meaning it has",
        table=table,
        column=column,
        count=rows,
        example=str(values[0][0]),
    )


def vocabulary_findings(
    connection: sa.Connection, mapping: RunTableMapping, table: sa.TableClause
) -> list[Finding]:
    """An error per vocabulary column holding values the mapping does not list.

    Each stored value is read by the mapping itself (``read_status``, ``read_outcome``), so a
    value is unmapped here exactly when the ports hand the core a value it flags.
    """
    readings: list[tuple[str, str, Callable[[object], object], type]]
    if mapping.lifecycle is not None:
        readings = [(mapping.lifecycle, "lifecycles", mapping.read_status, RunStatus)]
    else:
        readings = [
            (mapping.status, "statuses", mapping.read_status, RunStatus),
            (mapping.outcome, "outcomes", mapping.read_outcome, RunOutcome),
        ]
    findings = []
    for column, setting, read, meaning in readings:
        unmapped = [
            (value, rows)
            for value, rows in grouped(connection, table.c[column])
            if value is not None and not isinstance(read(value), meaning)
        ]
        if unmapped:
            findings.append(_unmapped(mapping.table, column, unmapped, setting))
    return findings


def uncovered_findings(
    connection: sa.Connection,
    mapping: RunTableMapping,
    table: sa.TableClause,
    catalog: OperationCatalog,
    families: Mapping[str, Family],
) -> list[Finding]:
    """An error per run type in the history that no registered family covers."""
    findings = []
    for value, rows in grouped(connection, table.c[mapping.type]):
        if not isinstance(value, str):
            continue
        op_type = catalog.resolve(value)
        if op_type is None:
            why = "is not in the catalog"
            fix = f"add {value!r} to the catalog (or as an alias of a type it has)"
        elif op_type.family not in families:
            why = f"belongs to the family {op_type.family!r}, which no plugin registers"
            fix = f"install or register the plugin that provides {op_type.family!r}"
        else:
            continue
        findings.append(
            Finding(
                code=FindingCode.UNCOVERED_TYPE,
                severity=Severity.ERROR,
                message=(
                    f"{mapping.table}.{mapping.type}: {rows} runs of type {value!r}, which "
                    f"{why}; its problem runs need manual review"
                ),
                fix=fix,
                table=mapping.table,
                column=mapping.type,
                count=rows,
                example=value,
            )
        )
    return findings
