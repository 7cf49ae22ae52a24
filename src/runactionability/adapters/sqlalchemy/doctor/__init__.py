"""``check``: does a mapping read a host's tables as the host means them? One finding per problem.

It reads, in one snapshot and in bounded statements: the tables' reflected columns and indexes;
grouped counts over the runs table (its status and outcome values, its run types: the most
frequent ``VALUES_LIMIT`` of each); and a sample of the newest runs, read through
``SqlRunSource`` and judged by the core, so that what it calls invalid is exactly what every
answer shows as needing manual review. ``runactionability doctor`` prints its report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy._reading import Bind, check_bind, snapshot_transaction
from runactionability.adapters.sqlalchemy.doctor.id_columns import (
    hex_text_findings,
    hex_uuid_findings,
    padded_findings,
    shared_id_findings,
    unattributed_finding,
    unattributed_runs,
    without_id_findings,
)
from runactionability.adapters.sqlalchemy.doctor.indexes import (
    index_findings,
    run_seeks,
    state_seeks,
)
from runactionability.adapters.sqlalchemy.doctor.sample import (
    TIMESTAMP_FIELDS,
    timestamp_findings,
    validity_finding,
)
from runactionability.adapters.sqlalchemy.doctor.spellings import spelling_findings
from runactionability.adapters.sqlalchemy.doctor.states import (
    proof_time_findings,
    state_status_findings,
    where_findings,
)
from runactionability.adapters.sqlalchemy.doctor.statistics import statistics_findings
from runactionability.adapters.sqlalchemy.doctor.tables import (
    VALUES_LIMIT,
    IdExpectation,
    context_findings,
    id_type_findings,
    id_value_findings,
    missing_columns,
    reflected_columns,
    run_id_expectations,
    state_id_expectations,
    timestamp_type_findings,
    uncovered_findings,
    vocabulary_findings,
)
from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.adapters.sqlalchemy.mapping import (
    REFERENCE_RUNS,
    RUN_FIELDS,
    RunTableMapping,
    StateTableMapping,
)
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.adapters.sqlalchemy.subjects import subject_findings
from runactionability.catalog import OperationCatalog
from runactionability.core import Core
from runactionability.errors import UsageError, driver_message
from runactionability.findings import CheckReport, Finding, FindingCode, Severity
from runactionability.model import OperationRun
from runactionability.policies.subjects import asked_subjects
from runactionability.registry import Registry

__all__ = ["DEFAULT_SAMPLE", "VALUES_LIMIT", "check"]

DEFAULT_SAMPLE = 1_000
"""How many of the newest runs ``check`` reads and judges by default."""

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def check(
    bind: Bind,
    runs: RunTableMapping = REFERENCE_RUNS,
    *,
    states: Mapping[str, StateTableMapping] | None = None,
    registry: Registry | None = None,
    catalog: OperationCatalog | None = None,
    sample: int = DEFAULT_SAMPLE,
    as_of: datetime | None = None,
) -> CheckReport:
    """Check that ``runs`` (and ``states``) read the database's tables as the host means them.

    ``registry`` defaults to the built-in one and ``catalog`` to the registry's; ``sample`` is
    how many of the newest runs are read and judged; ``as_of`` (default: now) is when the
    sample is judged and what "in the future" means for a stored instant. Findings come errors
    first; ``CheckReport.passed`` is false when any is an error.
    """
    bind = check_bind(bind)
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
        raise UsageError(f"sample must be a positive int, not {sample!r}")
    registry = Registry.default() if registry is None else registry
    catalog = registry.catalog() if catalog is None else catalog
    as_of = datetime.now(UTC) if as_of is None else as_of
    core = Core(catalog=catalog, families=registry.families())
    with snapshot_transaction(bind) as connection:
        total, sampled, findings = _check_runs(connection, runs, core, sample, as_of)
        for mapping in (states or {}).values():
            findings += _check_states(connection, mapping, sample, as_of)
        asked = asked_subjects(catalog, core.families)
        findings += subject_findings(connection, states or {}, asked)
    # Kinds kept in one table find its table-wide facts (statistics, an index) once each.
    findings = sorted(dict.fromkeys(findings), key=lambda finding: _ORDER[finding.severity])
    return CheckReport(
        dialect=connection.dialect.name,
        table=runs.table,
        total_runs=total,
        sampled=sampled,
        findings=tuple(findings),
    )


def _storage(instants: Instants, dialect: str) -> str:
    if not instants.is_native:
        return f"timestamps={str(instants)!r}"
    native = "timestamptz" if dialect == "postgresql" else "integer UTC microseconds"
    return f"timestamps={str(instants)!r} ({native})"


def _missing_table(table: str) -> Finding:
    return Finding(
        code=FindingCode.MISSING_TABLE,
        severity=Severity.ERROR,
        message=f"the database has no table {table!r}, which the mapping names",
        fix="name the host's own table in the mapping (and its schema, if not the default)",
        table=table,
    )


def _guarded(
    connection: sa.Connection, table: str, read: Callable[[], list[Finding]]
) -> list[Finding]:
    """``read``'s findings, or one error when a statement fails (the snapshot stays usable)."""
    savepoint = connection.begin_nested() if connection.dialect.name == "postgresql" else None
    try:
        findings = read()
    except sa.exc.DBAPIError as exc:
        if savepoint is not None:
            savepoint.rollback()
        detail = driver_message(exc) or " ".join(str(exc).split())
        return [
            Finding(
                code=FindingCode.READ_FAILED,
                severity=Severity.ERROR,
                message=f"{table}: reading it under the mapping fails: {detail}",
                fix="map each column as the type it is declared with",
                table=table,
            )
        ]
    if savepoint is not None:
        savepoint.commit()
    return findings


def _check_runs(
    connection: sa.Connection,
    mapping: RunTableMapping,
    core: Core,
    sample: int,
    as_of: datetime,
) -> tuple[int, int, list[Finding]]:
    table = mapping.table
    columns = reflected_columns(connection, table, mapping.schema)
    if columns is None:
        return 0, 0, [_missing_table(table)]
    names = [mapping.column_name(field) for field in RUN_FIELDS]
    if mapping.subject is not None:
        names.append(mapping.subject)
    findings = missing_columns(columns, names, table)
    if findings:
        return 0, 0, findings
    clause = mapping.table_clause()
    total = connection.execute(sa.select(sa.func.count()).select_from(clause)).scalar_one()
    dialect = connection.dialect.name
    expected = run_id_expectations(mapping, dialect)
    findings += _id_columns(connection, clause, columns, expected, table, "IdTypes")
    findings += _guarded(connection, table, lambda: _unattributed(connection, mapping))
    findings += _guarded(connection, table, lambda: shared_id_findings(connection, mapping))
    findings += _guarded(
        connection, table, lambda: vocabulary_findings(connection, mapping, clause)
    )
    findings += _guarded(
        connection,
        table,
        lambda: uncovered_findings(connection, mapping, clause, core.catalog, core.families),
    )
    instants = [getattr(mapping, field) for field in TIMESTAMP_FIELDS]
    blocked = timestamp_type_findings(
        columns, instants, mapping.timestamps, table=table, dialect=dialect
    ) + context_findings(columns, mapping, dialect)
    findings += blocked
    sampled: list[OperationRun] = []
    if not blocked:
        flagged = [f.column for f in findings if f.code is FindingCode.ID_TYPE and f.column]

        def read() -> list[Finding]:
            sampled.extend(SqlRunSource(connection, mapping, catalog=core.catalog).newest(sample))
            return _judge(sampled, mapping, core, as_of, dialect, flagged)

        findings += _guarded(connection, table, read)
        findings += _guarded(connection, table, lambda: spelling_findings(connection, mapping))
    findings += index_findings(connection, run_seeks(mapping), table=table, schema=mapping.schema)
    findings += statistics_findings(connection, table, mapping.schema)
    findings.append(
        Finding(
            code=FindingCode.SAMPLE,
            severity=Severity.INFO,
            message=f"{table}: {total} runs; the newest {len(sampled)} sampled",
            table=table,
            count=total,
        )
    )
    return total, len(sampled), findings


def _id_columns(
    connection: sa.Connection,
    clause: sa.TableClause,
    columns: Mapping[str, Any],
    expected: list[IdExpectation],
    table: str,
    setting: str,
) -> list[Finding]:
    """What the id columns' declared types, and on SQLite their uuid values, say."""
    dialect = connection.dialect.name
    findings = padded_findings(columns, expected, table=table, dialect=dialect)
    padded = {finding.column for finding in findings}
    unpadded = [expectation for expectation in expected if expectation[1] not in padded]
    findings += id_type_findings(columns, unpadded, table=table, setting=setting, dialect=dialect)
    return findings + _guarded(
        connection,
        table,
        lambda: [
            *hex_uuid_findings(connection, clause, expected, name=table),
            *hex_text_findings(connection, clause, columns, expected, name=table),
        ],
    )


def _unattributed(connection: sa.Connection, mapping: RunTableMapping) -> list[Finding]:
    found = unattributed_runs(connection, mapping, sample=5)
    findings = without_id_findings(connection, mapping)
    if found.count:
        findings.append(
            unattributed_finding(found, table=mapping.table, column=mapping.workspace_id)
        )
    return findings


def _judge(
    runs: list[OperationRun],
    mapping: RunTableMapping,
    core: Core,
    as_of: datetime,
    dialect: str,
    flagged: list[str],
) -> list[Finding]:
    """What the sampled runs say: their instants, their ids, their validity."""
    table = mapping.table
    findings = timestamp_findings(
        runs,
        {field: getattr(mapping, field) for field in TIMESTAMP_FIELDS},
        table=table,
        storage=_storage(mapping.timestamps, dialect),
        instants=mapping.timestamps,
        dialect=dialect,
        as_of=as_of,
    )
    findings += id_value_findings(
        runs, run_id_expectations(mapping, dialect), table=table, skip=flagged
    )
    # A host table without a key may repeat an id; the core judges each run once.
    unique = list({run.id: run for run in reversed(runs)}.values())[::-1]
    if unique:
        findings.append(validity_finding(unique, core, table=table, as_of=as_of))
    return findings


def _check_states(
    connection: sa.Connection, mapping: StateTableMapping, sample: int, as_of: datetime
) -> list[Finding]:
    table = mapping.table
    columns = reflected_columns(connection, table, mapping.schema)
    if columns is None:
        return [_missing_table(table)]
    names = [
        mapping.workspace_id,
        mapping.environment_id,
        mapping.status,
        mapping.proven_at,
        *mapping.where,
    ]
    names += [name for name in (mapping.subject, mapping.attributes) if name is not None]
    findings = missing_columns(columns, names, table)
    if findings:
        return findings
    dialect = connection.dialect.name
    expected = state_id_expectations(mapping, dialect)
    clause = mapping.table_clause()
    findings += _id_columns(connection, clause, columns, expected, table, "StateIdTypes")
    blocked = timestamp_type_findings(
        columns, [mapping.proven_at], mapping.timestamps, table=table, dialect=dialect
    )
    findings += blocked
    if not blocked:
        storage = _storage(mapping.timestamps, dialect)

        def proof_times() -> list[Finding]:
            return proof_time_findings(connection, mapping, sample, as_of=as_of, storage=storage)

        findings += _guarded(connection, table, proof_times)
    findings += _guarded(connection, table, lambda: state_status_findings(connection, mapping))
    findings += _guarded(connection, table, lambda: where_findings(connection, mapping))
    findings += index_findings(connection, state_seeks(mapping), table=table, schema=mapping.schema)
    findings += statistics_findings(connection, table, mapping.schema)
    return findings
