"""Id columns no mapping reads as they compare, and runs no actor can ever see.

Three silent misreadings, made loud: PostgreSQL's blank-padded ``char(n)`` (stored 'acme    ',
compared with text as 'acme'); uuid ids on SQLite that are not stored as SQLAlchemy's ``Uuid``
stores them (32 hex digits, see ``ids``); and runs whose workspace id no actor can name (NULL,
blank, or text in an integer or uuid column), which every scope leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.types import NullType, TypeEngine

from runactionability.adapters.sqlalchemy.doctor.tables import IdExpectation
from runactionability.adapters.sqlalchemy.ids import id_exact, id_value
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping
from runactionability.adapters.sqlalchemy.reflect import blank_padded, padded_fix
from runactionability.adapters.sqlalchemy.run_statements import addressable
from runactionability.adapters.sqlalchemy.types import as_run_id
from runactionability.adapters.sqlalchemy.unique_ids import proven_unique_ids
from runactionability.findings import Finding, FindingCode, Severity
from runactionability.model import RunId, usable_id

_HEX_GLOB = "'" + "[0-9a-f]" * 32 + "'"


def padded_findings(
    columns: Mapping[str, TypeEngine[Any]],
    expected: Sequence[IdExpectation],
    *,
    table: str,
    dialect: str,
) -> list[Finding]:
    """An error per id column that is PostgreSQL's blank-padded ``char(n)``."""
    return [
        Finding(
            code=FindingCode.ID_TYPE,
            severity=Severity.ERROR,
            message=(
                f"{table}.{column} is {declared} (blank-padded): PostgreSQL compares its "
                f"{field} ids with text after stripping their blanks, so a later success or a "
                "state of the same scope is never found and counts disagree with the pages"
            ),
            fix=padded_fix(table, column, declared),
            table=table,
            column=column,
        )
        for field, column, _ in expected
        if (declared := columns.get(column)) is not None and blank_padded(declared, dialect)
    ]


def hex_uuid_findings(
    connection: sa.Connection,
    table: sa.TableClause,
    expected: Sequence[IdExpectation],
    *,
    name: str,
) -> list[Finding]:
    """An error per uuid id column on SQLite holding values that are not 32 hex digits.

    Such values (a uuid's hyphenated text, upper-case hex) are never found by a caller's uuid.
    """
    if connection.dialect.name == "postgresql":
        return []
    findings = []
    for field, column, kinds in expected:
        if "uuid" not in kinds:
            continue
        raw = sa.type_coerce(table.c[column], NullType())
        odd = sa.and_(raw.is_not(None), sa.not_(raw.op("GLOB")(sa.literal_column(_HEX_GLOB))))
        statement = sa.select(sa.func.count(), sa.func.min(raw)).where(odd)
        count, example = connection.execute(statement).one()
        if count:
            findings.append(
                Finding(
                    code=FindingCode.ID_TYPE,
                    severity=Severity.ERROR,
                    message=(
                        f"{name}.{column}: {count} {field} ids are not stored as a uuid is on "
                        f"SQLite (32 lowercase hex digits, as SQLAlchemy's Uuid stores it; e.g. "
                        f"{example!r}): no caller's uuid finds them"
                    ),
                    fix=(
                        f"map the {field} id as text if the column holds such text "
                        f'(ids = {{ {field} = "text" }}), or store uuid.hex'
                    ),
                    table=name,
                    column=column,
                    count=count,
                    example=str(example),
                )
            )
    return findings


def hex_text_findings(
    connection: sa.Connection,
    table: sa.TableClause,
    columns: Mapping[str, TypeEngine[Any]],
    expected: Sequence[IdExpectation],
    *,
    name: str,
) -> list[Finding]:
    """A warning per id column on SQLite compared as text, declared ``CHAR(32)`` and holding
    only 32 lowercase hex digits: what SQLAlchemy's ``Uuid`` stores, and also what hex tokens
    (``secrets.token_hex(16)``, md5) look like. Only the host knows which; read as text, a
    caller's ``str(uuid)`` finds none of them."""
    if connection.dialect.name == "postgresql":
        return []
    findings = []
    for field, column, kinds in expected:
        declared = columns.get(column)
        if "uuid" in kinds or not (isinstance(declared, sa.CHAR) and declared.length == 32):
            continue
        raw = sa.type_coerce(table.c[column], NullType())
        hexes = sa.func.sum(sa.case((raw.op("GLOB")(sa.literal_column(_HEX_GLOB)), 1), else_=0))
        total, hex_count = connection.execute(sa.select(sa.func.count(raw), hexes)).one()
        if total and total == hex_count:
            findings.append(
                Finding(
                    code=FindingCode.ID_TYPE,
                    severity=Severity.WARNING,
                    message=(
                        f"{name}.{column} is CHAR(32) and every {field} id in it is 32 hex "
                        "digits, as SQLAlchemy's Uuid stores uuids on SQLite: read as text, a "
                        "caller's str(uuid) finds none of them"
                    ),
                    fix=(
                        f"if they are uuids, map the {field} id as uuid (ids = {{ {field} = "
                        f'"uuid" }}); if they are hex tokens, this is right as it is'
                    ),
                    table=name,
                    column=column,
                    count=total,
                )
            )
    return findings


@attrs.frozen
class UnattributedRuns:
    """The runs no actor can see: their workspace id is NULL, blank, or names no workspace of
    the column's type (text in an integer or uuid column)."""

    count: int
    sample: tuple[RunId, ...] = ()
    """A few of their run ids (``unattributed_runs(sample=...)``)."""


def unattributed_runs(
    connection: sa.Connection, mapping: RunTableMapping, *, sample: int = 0
) -> UnattributedRuns:
    """``UnattributedRuns`` of the runs table: one grouped statement over the workspace ids,
    and one more for ``sample`` run ids when there are any."""
    dialect = connection.dialect.name
    c = mapping.table_clause().c
    column = c[mapping.workspace_id]
    key = id_exact(column, mapping.ids.workspace, dialect)
    # A row without an id is counted by runs_without_id, not here a second time.
    identified = addressable({"id": c[mapping.id]})
    grouped = sa.select(key.label("workspace"), sa.func.count().label("n")).where(identified)
    grouped = grouped.group_by(key)
    unusable = [
        (row.workspace, row.n)
        for row in connection.execute(grouped)
        if not _names_a_workspace(row.workspace, mapping, dialect)
    ]
    count = sum(n for _, n in unusable)
    if not count or sample < 1:
        return UnattributedRuns(count)
    raw = sa.type_coerce(column, NullType())
    values = [value for value, _ in unusable if value is not None]
    conditions = [raw.in_(sa.bindparam("unusable", values, expanding=True))] if values else []
    if len(values) < len(unusable):
        conditions.append(column.is_(None))
    statement = sa.select(c[mapping.id]).where(identified, sa.or_(*conditions))
    statement = statement.order_by(c[mapping.id])
    ids = connection.execute(statement.limit(sample)).scalars()
    return UnattributedRuns(count, tuple(as_run_id(run_id) for run_id in ids))


def _names_a_workspace(value: object, mapping: RunTableMapping, dialect: str) -> bool:
    read = usable_id(value)
    return read is not None and id_value(read, mapping.ids.workspace, dialect) is not None


def unattributed_finding(found: UnattributedRuns, *, table: str, column: str) -> Finding:
    """An error naming the runs no actor can see (``found.count`` is not 0)."""
    shown = ", ".join(map(str, found.sample))
    return Finding(
        code=FindingCode.UNATTRIBUTED_RUNS,
        severity=Severity.ERROR,
        message=(
            f"{table}.{column}: {found.count} run{'s have' if found.count > 1 else ' has'} no "
            "usable workspace id (NULL, blank, "
            f"or not an id of the column's type; e.g. runs {shown}): no actor's scope shows "
            "them, and no whole-database count includes them"
        ),
        fix="give these runs their workspace id, or map the workspace id as the type it holds",
        table=table,
        column=column,
        count=found.count,
        example=str(found.sample[0]) if found.sample else None,
    )


def without_id_findings(connection: sa.Connection, mapping: RunTableMapping) -> list[Finding]:
    """An error counting the rows whose run id is NULL, which every read leaves out."""
    column = mapping.table_clause().c[mapping.id]
    count = connection.execute(sa.select(sa.func.count()).where(column.is_(None))).scalar_one()
    if not count:
        return []
    return [
        Finding(
            code=FindingCode.RUNS_WITHOUT_ID,
            severity=Severity.ERROR,
            message=(
                f"{mapping.table}.{mapping.id}: {count} row{'s have' if count > 1 else ' has'} "
                "no run id (NULL): no page, count, explanation or proof reads a row without "
                "one, as nothing could name it"
            ),
            fix=(
                f"give these rows their id, then ALTER TABLE {mapping.table} ALTER COLUMN "
                f"{mapping.id} SET NOT NULL (or make it the primary key)"
            ),
            table=mapping.table,
            column=mapping.id,
            count=count,
        )
    ]


def shared_id_findings(
    connection: sa.Connection, mapping: RunTableMapping, *, sample: int = 5
) -> list[Finding]:
    """An error naming the run ids more than one row holds (two grouped statements), unless the
    table's primary key or a unique index proves its ids unique (then none)."""
    if proven_unique_ids(connection, mapping):
        return []
    column = mapping.table_clause().c[mapping.id]
    key = id_exact(column, mapping.ids.run, connection.dialect.name)
    grouped = sa.select(key.label("id")).where(column.is_not(None)).group_by(key)
    shared = grouped.having(sa.func.count() > 1).subquery()
    count = connection.execute(sa.select(sa.func.count()).select_from(shared)).scalar_one()
    if not count:
        return []
    statement = sa.select(shared.c.id).order_by(shared.c.id).limit(sample)
    ids = [as_run_id(run_id) for run_id in connection.execute(statement).scalars()]
    shown = ", ".join(map(str, ids))
    return [
        Finding(
            code=FindingCode.DUPLICATE_RUN_IDS,
            severity=Severity.ERROR,
            message=(
                f"{mapping.table}.{mapping.id}: {count} run id{'s are' if count > 1 else ' is'} "
                f"held by more than one row (e.g. {shown}): every row sharing an id the actor "
                "can see reads requires_manual_review (duplicate_run_id), and each request "
                "judges every run without the SQL pushdown"
            ),
            fix=(
                "give each run its own id; a primary key or a unique index on the id column "
                "proves it, and spares every request the check"
            ),
            table=mapping.table,
            column=mapping.id,
            count=count,
            example=str(ids[0]),
        )
    ]
