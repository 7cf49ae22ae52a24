"""What the SQL ports share: one read transaction per call, and the chunking of large batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa

Bind = sa.Engine | sa.Connection
"""What the adapters read through: an ``Engine`` (a connection per call) or a ``Connection``."""

T = TypeVar("T")

CHUNK_SIZE = 5_000
"""Requests per statement. Larger batches are split so that no single parameter grows without
bound; every chunk is read in the same transaction."""


def check_bind(bind: object) -> Bind:
    if not isinstance(bind, sa.Engine | sa.Connection):
        raise TypeError(f"bind must be a SQLAlchemy Engine or Connection, not {bind!r}")
    return bind


def chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[start : start + CHUNK_SIZE] for start in range(0, len(items), CHUNK_SIZE)]


@contextmanager
def read_transaction(bind: Bind, *, statements: int = 1) -> Iterator[sa.Connection]:
    """A connection inside a transaction, so that every statement of one call sees one snapshot.

    A ``Connection`` already in a transaction is used as is: its owner decides the snapshot (a
    whole resolver batch reads in one when the ports share such a connection). The pysqlite
    driver starts no transaction for a SELECT, so when a call needs several statements on
    SQLite, a ``BEGIN`` is sent explicitly.
    """
    if isinstance(bind, sa.Engine):
        with bind.connect() as connection, connection.begin():
            _begin_sqlite(connection, statements)
            yield connection
    elif bind.in_transaction():
        yield bind
    else:
        with bind.begin():
            _begin_sqlite(bind, statements)
            yield bind


def _begin_sqlite(connection: sa.Connection, statements: int) -> None:
    if statements <= 1 or connection.dialect.name != "sqlite":
        return
    driver: Any = connection.connection.driver_connection
    if not getattr(driver, "in_transaction", True):
        connection.exec_driver_sql("BEGIN")
