"""Counting the SQL statements a block of code sends: the N+1 guard of a host's consumer paths.

A dashboard, a follow-up page or an explanation reads a bounded number of statements whatever the
number of runs (one per evidence kind, times chunks, plus the page or count itself). A host pins
that bound in a test, so that a screen which starts evaluating runs one by one fails there::

    from runactionability.testing import assert_max_statements

    def test_the_dashboard_reads_a_fixed_number_of_statements(engine, service, actor_scopes):
        with assert_max_statements(engine, 6), service.session(scopes=actor_scopes) as session:
            session.dashboard()

Every statement sent to the database's cursor counts (``before_cursor_execute``): queries,
savepoints, an ``executemany`` as one. Transaction control that the driver does without a
statement (``BEGIN``, ``COMMIT``) is not seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

import sqlalchemy as sa

if TYPE_CHECKING:
    # Not imported at run time: SQLAlchemy's asyncio layer needs greenlet, which a sync host
    # does not install; an asyncio bind is recognised by its sync twin instead.
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Bind: TypeAlias = "sa.Engine | sa.Connection | AsyncEngine | AsyncConnection"
"""What the counters listen on: a sync or asyncio engine or connection."""

_SHOWN = 400
"""How much of one statement an assertion message shows."""


class StatementCounter:
    """The statements seen so far, live while its block runs (and kept after it ends)."""

    __slots__ = ("statements",)

    def __init__(self) -> None:
        self.statements: list[str] = []
        """The SQL text of every statement, in the order sent."""

    @property
    def count(self) -> int:
        """How many statements were sent."""
        return len(self.statements)

    def assert_at_most(self, limit: int, what: str = "the block") -> None:
        """Raise ``AssertionError`` listing every statement when more than ``limit`` were sent."""
        if self.count > limit:
            listed = "\n".join(
                f"  {index}. {_shortened(statement)}"
                for index, statement in enumerate(self.statements, start=1)
            )
            raise AssertionError(
                f"{what} sent {self.count} SQL statements, at most {limit} expected:\n{listed}"
            )

    def __repr__(self) -> str:
        return f"StatementCounter(count={self.count})"


@contextmanager
def count_statements(bind: Bind) -> Iterator[StatementCounter]:
    """Count the statements ``bind`` sends while the block runs.

    ``bind`` is an ``Engine`` (every connection it hands out, including ones already open), a
    ``Connection`` (that connection alone), or their asyncio twins (an ``AsyncConnection`` not
    started yet counts its engine's). The counter stays readable after the block.
    """
    target = _sync_target(bind)
    counter = StatementCounter()

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counter.statements.append(statement)

    sa.event.listen(target, "before_cursor_execute", listener)
    try:
        yield counter
    finally:
        sa.event.remove(target, "before_cursor_execute", listener)


@contextmanager
def assert_max_statements(bind: Bind, limit: int) -> Iterator[StatementCounter]:
    """Fail, listing the statements, when the block makes ``bind`` send more than ``limit``.

    Nothing is checked when the block raises: its own error is the one to see.
    """
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, not {limit}")
    with count_statements(bind) as counter:
        yield counter
    counter.assert_at_most(limit)


def _sync_target(bind: Bind) -> sa.Engine | sa.Connection:
    if isinstance(bind, sa.Engine | sa.Connection):
        return bind
    sync_connection = getattr(bind, "sync_connection", None)
    if isinstance(sync_connection, sa.Connection):
        return sync_connection
    sync_engine = getattr(bind, "sync_engine", None)
    if isinstance(sync_engine, sa.Engine):
        return sync_engine
    raise TypeError(f"expected an Engine or a Connection (sync or asyncio), not {bind!r}")


def _shortened(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}..."
