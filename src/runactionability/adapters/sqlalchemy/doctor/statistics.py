"""PostgreSQL tables the planner has no statistics for, and the ``ANALYZE`` that gives it some.

Without statistics (a table created and filled since the last ``ANALYZE``, with autovacuum off or
not yet come round) PostgreSQL guesses every equality as matching a handful of rows, and then
prefers the index path with the fewest index conditions: a state test seeks on the workspace
alone instead of the object, a later-success test reads every success of the workspace instead
of the type's. Each problem run then reads its whole workspace, so a request costs the square of
its problem runs (measured: 4,000 failures resolved by current state, 16.6 s before ``ANALYZE``
and 0.7 s after; ``docs/performance.md``, "Tables never analyzed"). ``VACUUM`` alone, which
counts the rows but gathers no column statistics, does not help. Keeping the statements out of
it would take another shape for each such test (the later-success test one seek per stored name
of a type, for one), so the doctor names the tables instead.
"""

from __future__ import annotations

import sqlalchemy as sa

from runactionability.findings import Finding, FindingCode, Severity

# The table itself, or each leaf of a partitioned one (autovacuum analyzes the partitions, never
# the parent, whose own statistics matter less); a view has none to gather. ``pg_stats`` shows
# the columns the user may read, which the doctor reads anyway; an empty table has nothing to
# gather and is left alone.
_UNANALYZED = sa.text(
    """
    SELECT c.oid::regclass::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid IN (
        SELECT to_regclass(:name)
        UNION ALL
        SELECT relid FROM pg_partition_tree(to_regclass(:name)) WHERE isleaf
    )
    AND c.relkind IN ('r', 'm')
    AND pg_relation_size(c.oid) > 0
    AND NOT EXISTS (
        SELECT 1 FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname
    )
    ORDER BY 1
    """
)


def statistics_findings(connection: sa.Connection, table: str, schema: str | None) -> list[Finding]:
    """A warning, with its ``ANALYZE``, per PostgreSQL table (or partition) never analyzed."""
    if connection.dialect.name != "postgresql":
        return []
    preparer = connection.dialect.identifier_preparer
    name = preparer.quote(table)
    if schema is not None:
        name = f"{preparer.quote_schema(schema)}.{name}"
    found = connection.execute(_UNANALYZED, {"name": name}).scalars().all()
    return [
        Finding(
            code=FindingCode.MISSING_STATISTICS,
            severity=Severity.WARNING,
            message=(
                f"{table}: PostgreSQL has no statistics for {relation} (never analyzed, and "
                "autovacuum off or not yet come round): its plans may read a whole workspace for "
                "each problem run, so a request slows with the square of its problem runs"
            ),
            fix=f"ANALYZE {relation}",
            table=table,
        )
        for relation in found
    ]
