"""What a state table says: its newest proof times as the adapter reads them, its statuses.

A state whose ``proven_at`` cannot be read proves nothing (its object has no fact), and a stored
status its mapping does not list proves nothing either: both leave a run without the evidence
that would resolve it, so the host hears of them here rather than from an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.doctor.sample import (
    implausible_finding,
    is_typed,
    plausible,
    unreadable_fix,
)
from runactionability.adapters.sqlalchemy.doctor.tables import grouped
from runactionability.adapters.sqlalchemy.instant_rows import readable_columns, stored_instant
from runactionability.adapters.sqlalchemy.mapping import StateTableMapping
from runactionability.findings import Finding, FindingCode, Severity


def proof_time_findings(
    connection: sa.Connection,
    mapping: StateTableMapping,
    sample: int,
    *,
    as_of: datetime,
    storage: str,
) -> list[Finding]:
    """An error when sampled ``proven_at`` values cannot be read as instants; else, as for the
    runs' timestamps, a finding when they read as instants no history holds (``storage``: the
    mapping's storage as a finding names it)."""
    present = newest_proof_times(connection, mapping, sample)
    dialect = connection.dialect.name
    unreadable = [v for v in present if not isinstance(v, datetime) or v.utcoffset() is None]
    if not unreadable:
        # Proof times of 1970 (epoch seconds read as ms) are older than every run: no state
        # ever resolves one, and nothing else tells.
        strange = [v for v in present if isinstance(v, datetime) and not plausible(v, as_of)]
        if not strange:
            return []
        where = (mapping.table, mapping.proven_at, storage, mapping.timestamps, dialect)
        return [implausible_finding(strange, len(present), *where)]
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


def newest_proof_times(
    connection: sa.Connection, mapping: StateTableMapping, sample: int
) -> list[object]:
    """The kind's ``sample`` newest stored proof times (through its ``where``; NULLs left out),
    each read as the state source reads it: an aware ``datetime``, or the value it cannot read."""
    table = mapping.table_clause()
    column = table.c[mapping.proven_at]
    dialect = connection.dialect.name
    order = column.desc().nulls_last() if dialect == "postgresql" else column.desc()
    statement = (
        sa.select(*readable_columns(column, "proven_at", dialect))
        .select_from(table)
        .where(*mapping.filters(table, dialect))
        .order_by(order)
        .limit(sample)
    )
    values = [stored_instant(row._mapping, "proven_at") for row in connection.execute(statement)]
    return [value for value in values if value is not None]


def mostly_unlisted(unlisted: int, read: int) -> bool:
    """Whether ``unlisted`` of ``read`` states (each with a status) is a mapping that misses the
    host's words rather than a stray row: more than half, as for the runs the service samples.

    No minimum count, unlike the runs' (``MINIMUM_INVALID``): an invalid run is flagged in every
    answer with its own reason, but a state whose status is unlisted is silently no evidence, so
    one such state of one is the mapping's miss as surely as a thousand of a thousand.
    """
    return 2 * unlisted > read


def unlisted_statuses(
    mapping: StateTableMapping, counts: Sequence[tuple[Any, int]]
) -> list[tuple[Any, int]]:
    """Of stored statuses and their counts, those the mapping's ``statuses`` do not list, each
    compared as ``SqlStateSource`` reads it (its text: an integer column's 1 is ``"1"``)."""
    listed = mapping.statuses
    if listed is None:
        return []
    return [
        (value, rows) for value, rows in counts if value is not None and str(value) not in listed
    ]


def newest_statuses(
    connection: sa.Connection, mapping: StateTableMapping, sample: int
) -> list[tuple[Any, int]]:
    """The statuses of the kind's newest ``sample`` states (by ``proven_at``), each with the
    count 1: one bounded statement, by which a service judges its state mappings when built."""
    table = mapping.table_clause()
    column = table.c[mapping.proven_at]
    dialect = connection.dialect.name
    order = column.desc().nulls_last() if dialect == "postgresql" else column.desc()
    statement = (
        sa.select(sa.type_coerce(table.c[mapping.status], sa.types.NullType()))
        .where(*mapping.filters(table, dialect))
        .order_by(order)
        .limit(sample)
    )
    return [(value, 1) for value in connection.execute(statement).scalars()]


def state_status_findings(connection: sa.Connection, mapping: StateTableMapping) -> list[Finding]:
    """A finding when the kind's stored statuses are missing from the mapping's ``statuses``:
    an error when most of its states hold one (``mostly_unlisted``), a warning otherwise."""
    if mapping.statuses is None:
        return []
    table = mapping.table_clause()
    column = table.c[mapping.status]
    counts = grouped(connection, column, mapping.filters(table, connection.dialect.name))
    unlisted = unlisted_statuses(mapping, counts)
    if not unlisted:
        return []
    rows = sum(count for _, count in unlisted)
    read = sum(count for value, count in counts if value is not None)
    shown = ", ".join(f"{value!r} ({count})" for value, count in unlisted[:5])
    most = mostly_unlisted(rows, read)
    why = (
        "; most of the kind's states prove nothing, so no run is resolved by its state"
        if most
        else "; such a state proves nothing"
    )
    return [
        Finding(
            code=FindingCode.UNMAPPED_VALUE,
            severity=Severity.ERROR if most else Severity.WARNING,
            message=(
                f"{mapping.table}.{mapping.status}: {rows} of {read} {mapping.kind} states hold "
                f"statuses the mapping does not list: {shown}{why}"
            ),
            fix="add each status to the state mapping's statuses, if it means one",
            table=mapping.table,
            column=mapping.status,
            count=rows,
            example=str(unlisted[0][0]),
        )
    ]


def where_findings(connection: sa.Connection, mapping: StateTableMapping) -> list[Finding]:
    """A warning when the mapping's ``where`` keeps none of a non-empty table's rows, naming
    the values its columns hold (a spelling the host does not store, ``provider_connection``
    for ``ProviderConnection``, maps no state at all, and no answer says so). An empty table
    is no finding: a host may have no state of the kind yet."""
    if not mapping.where:
        return []
    table = mapping.table_clause()
    one = sa.select(sa.literal(1)).select_from(table).limit(1)
    filters = mapping.filters(table, connection.dialect.name)
    if connection.execute(one.where(*filters)).first() is not None:
        return []
    if connection.execute(one).first() is None:
        return []
    stored = {column: grouped(connection, table.c[column]) for column in sorted(mapping.where)}
    shown = "; ".join(
        f"{column} holds " + ", ".join(f"{value!r} ({count})" for value, count in values[:5])
        for column, values in stored.items()
    )
    first = next(iter(stored))
    return [
        Finding(
            code=FindingCode.UNMATCHED_WHERE,
            severity=Severity.WARNING,
            message=(
                f"{mapping.table}: no row matches the {mapping.kind} mapping's where "
                f"{dict(sorted(mapping.where.items()))!r}, so the kind has no state and no run "
                f"is resolved by one: {shown}"
            ),
            fix="set the where to the values the host stores for the kind",
            table=mapping.table,
            column=first,
            count=0,
            example=str(stored[first][0][0]) if stored[first] else None,
        )
    ]
