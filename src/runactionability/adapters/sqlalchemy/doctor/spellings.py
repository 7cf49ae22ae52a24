"""ISO-text ``created_at`` values written in two spellings, which pages list out of order.

Pages and their cursors order by the stored ``created_at`` (what the index holds, never
converted), which for ISO text is the instants' order only while every value is written alike.
A fraction of any precision keeps it (``12:40:00`` < ``12:40:00.5`` < ``12:40:01`` as text as
in time), but the two separators do not: ``'2026-01-01 11:00:00'`` sorts before
``'2026-01-01T10:00:00'``, so newest first lists the 10:00 run above the 11:00 one, while the
memory adapter and every count order by instant. Paging stays whole (each cursor continues the
same stored order: no run skipped or repeated); the order is what is wrong, silently, so
``doctor`` says it as an error with the rewrite that fixes it.
"""

from __future__ import annotations

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.instant_sql import valid_timestamp
from runactionability.adapters.sqlalchemy.mapping import RunTableMapping
from runactionability.findings import Finding, FindingCode, Severity

_SEPARATOR_AT = 11
"""Where ``YYYY-MM-DD`` ends and the separator stands (SQL counts from 1)."""


def spelling_findings(connection: sa.Connection, mapping: RunTableMapping) -> list[Finding]:
    """An error when an ISO-text ``created_at`` holds both a ``'T'`` and a ``' '`` separator."""
    if mapping.timestamps.form != "iso_text":
        return []
    name, column = mapping.table, mapping.created_at
    typed = mapping.table_clause().c[column]
    # Only values the mapping reads: an unreadable one is unreadable_timestamp's to report.
    readable = valid_timestamp(typed, connection.dialect.name)
    separator = sa.func.substr(sa.type_coerce(typed, sa.String()), _SEPARATOR_AT, 1)

    def count(text: str) -> sa.ColumnElement[int]:
        spelled = sa.case((sa.and_(readable, separator == text), 1), else_=0)
        return sa.func.coalesce(sa.func.sum(spelled), 0)

    tees, spaces = connection.execute(sa.select(count("T"), count(" "))).one()
    if not (tees and spaces):
        return []
    # The fewer values are rewritten in the spelling most of them have.
    wrong, right = ("T", " ") if tees <= spaces else (" ", "T")
    return [
        Finding(
            code=FindingCode.MIXED_TIMESTAMP_SPELLINGS,
            severity=Severity.ERROR,
            message=(
                f"{name}.{column}: {tees} values have a 'T' between date and time and {spaces} "
                "a ' ': pages and their cursors order by the stored text, in which the two "
                "spellings of one day do not sort as their times do, so runs are listed out "
                "of their creation order (counts and explanations are not affected)"
            ),
            fix=(
                f"UPDATE {name} SET {column} = replace({column}, '{wrong}', '{right}') WHERE "
                f"substr({column}, {_SEPARATOR_AT}, 1) = '{wrong}'; and write every new "
                f"value with '{right}'"
            ),
            table=name,
            column=column,
            count=min(tees, spaces),
        )
    ]
