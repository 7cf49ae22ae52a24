"""What a state table says: its newest proof times as the adapter reads them, its statuses.

A state whose ``proven_at`` cannot be read proves nothing (its object has no fact), and a stored
status its mapping does not list proves nothing either: both leave a run without the evidence
that would resolve it, so the host hears of them here rather than from an operator.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.doctor.sample import is_typed, unreadable_fix
from runactionability.adapters.sqlalchemy.doctor.tables import grouped
from runactionability.adapters.sqlalchemy.instant_rows import readable_columns, stored_instant
from runactionability.adapters.sqlalchemy.mapping import StateTableMapping
from runactionability.findings import Finding, FindingCode, Severity


def proof_time_findings(
    connection: sa.Connection, mapping: StateTableMapping, sample: int
) -> list[Finding]:
    """An error when sampled ``proven_at`` values cannot be read as instants."""
    table = mapping.table_clause()
    column = table.c[mapping.proven_at]
    dialect = connection.dialect.name
    order = column.desc().nulls_last() if dialect == "postgresql" else column.desc()
    statement = (
        sa.select(*readable_columns(column, "proven_at", dialect))
        .select_from(table)
        .order_by(order)
        .limit(sample)
    )
    values = [stored_instant(row._mapping, "proven_at") for row in connection.execute(statement)]
    present = [value for value in values if value is not None]
    unreadable = [v for v in present if not isinstance(v, datetime) or v.utcoffset() is None]
    if not unreadable:
        return []
    typed = is_typed(mapping.timestamps, dialect)
    fix, example = unreadable_fix(unreadable, mapping.timestamps, typed=typed)
    return [
        Finding(
            code=FindingCode.UNREADABLE_TIMESTAMP,
            severity=Severity.ERROR,
            message=(
                f"{mapping.table}.{mapping.proven_at}: {len(unreadable)} of {len(present)} "
                f"sampled {mapping.kind} states have a proof time that cannot be read as an "
                f"instant (e.g. {example!r}); they prove nothing"
            ),
            fix=fix,
            table=mapping.table,
            column=mapping.proven_at,
            count=len(unreadable),
            example=str(example),
        )
    ]


def state_status_findings(connection: sa.Connection, mapping: StateTableMapping) -> list[Finding]:
    """A warning when stored statuses are missing from the mapping's ``statuses``."""
    if mapping.statuses is None:
        return []
    listed = mapping.statuses
    table = mapping.table_clause()
    unlisted = [
        (value, rows)
        for value, rows in grouped(connection, table.c[mapping.status])
        if value is not None and value not in listed
    ]
    if not unlisted:
        return []
    rows = sum(count for _, count in unlisted)
    shown = ", ".join(f"{value!r} ({count})" for value, count in unlisted[:5])
    return [
        Finding(
            code=FindingCode.UNMAPPED_VALUE,
            severity=Severity.WARNING,
            message=(
                f"{mapping.table}.{mapping.status}: {rows} {mapping.kind} states hold statuses "
                f"the mapping does not list: {shown}; such a state proves nothing"
            ),
            fix="add each status to the state mapping's statuses, if it means one",
            table=mapping.table,
            column=mapping.status,
            count=rows,
            example=str(unlisted[0][0]),
        )
    ]
