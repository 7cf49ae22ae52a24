"""Whether a runs table's key proves its ids unique, read from the database's catalog."""

from __future__ import annotations

import sqlalchemy as sa

from runactionability.adapters.sqlalchemy.mapping import RunTableMapping


def proven_unique_ids(connection: sa.Connection, mapping: RunTableMapping) -> bool | None:
    """Whether the table's primary key, a unique constraint or a full unique index is exactly
    the id column (None when the table does not exist)."""
    table, schema, column = mapping.table, mapping.schema, mapping.id
    if connection.dialect.name == "postgresql":
        return _postgresql_unique(connection, table, schema, column)
    try:
        primary = sa.inspect(connection).get_pk_constraint(table, schema=schema)
    except sa.exc.NoSuchTableError:
        return None
    keys = _sqlite_unique_keys(connection, table, schema)
    return [column] in [[*primary["constrained_columns"]], *keys]


# The primary key, a unique constraint and a unique index all have a row in pg_index. An index a
# failed CREATE UNIQUE INDEX CONCURRENTLY left behind is unique but not valid: it fails exactly
# because ids repeat, so only a valid one proves anything (the inspector does not tell).
_PG_UNIQUE = sa.text(
    "SELECT coalesce(bool_or(i.indisunique AND i.indisvalid AND i.indpred IS NULL"
    " AND i.indexprs IS NULL AND i.indnkeyatts = 1 AND a.attname = :column), false)"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_index i ON i.indrelid = c.oid"
    " LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]"
    " WHERE c.relname = :table AND n.nspname = coalesce(:schema, current_schema())"
    " AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
    " GROUP BY c.oid"
)


def _postgresql_unique(
    connection: sa.Connection, table: str, schema: str | None, column: str
) -> bool | None:
    found = connection.execute(_PG_UNIQUE, {"table": table, "schema": schema, "column": column})
    proven = found.scalar()
    return None if proven is None else bool(proven)


def _sqlite_unique_keys(
    connection: sa.Connection, table: str, schema: str | None
) -> list[list[str | None]]:
    """The columns of each full unique index of a SQLite table, read with its pragmas: the
    inspector's index reflection warns about every expression index (the reference schema has
    two), and a warning filter is no thread-safe way to silence it. An expression's column is
    None."""
    prefix = f'"{schema}".' if schema else ""
    quoted = table.replace('"', '""')
    listed = connection.exec_driver_sql(f'PRAGMA {prefix}index_list("{quoted}")').mappings()
    keys = []
    for index in [dict(row) for row in listed]:
        if not index["unique"] or index.get("partial"):
            continue
        name = str(index["name"]).replace('"', '""')
        info = connection.exec_driver_sql(f'PRAGMA {prefix}index_info("{name}")').mappings()
        keys.append([row["name"] for row in info])
    return keys
