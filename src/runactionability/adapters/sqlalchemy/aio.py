"""The ports for asyncio hosts: ``AsyncRunHistory`` and ``AsyncStateSource`` over SQLAlchemy's
asyncio engines (aiosqlite, psycopg's async driver).

Each runs the sync port's own call inside ``AsyncConnection.run_sync``: the same statements,
compiled once per port, each executed by awaiting the async driver, so the two adapters cannot
answer differently. For a whole request, ``AsyncActionabilityService`` does the same one level up.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from runactionability.adapters.sqlalchemy.backend import _rebound
from runactionability.adapters.sqlalchemy.context_check import refuse_text_context
from runactionability.adapters.sqlalchemy.history import SqlRunHistory
from runactionability.adapters.sqlalchemy.mapping import (
    REFERENCE_RUNS,
    RunTableMapping,
    StateTableMapping,
)
from runactionability.adapters.sqlalchemy.states import SqlStateSource
from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest
from runactionability.ports import AsyncStateSource, StateSource

AsyncBind = AsyncEngine | AsyncConnection
"""What the async ports read through: an ``AsyncEngine`` (a connection per call) or an
``AsyncConnection`` (in its transaction, if it has begun one: a batch then reads one snapshot)."""

T = TypeVar("T")


def _engine_of(bind: AsyncBind) -> sa.Engine:
    if not isinstance(bind, AsyncEngine | AsyncConnection):
        raise TypeError(f"bind must be an AsyncEngine or AsyncConnection, not {bind!r}")
    return bind.sync_engine


async def _through(bind: AsyncBind, call: Callable[[sa.Connection], T]) -> T:
    if isinstance(bind, AsyncConnection):
        return await bind.run_sync(call)
    async with bind.connect() as connection:
        return await connection.run_sync(call)


class AsyncSqlRunHistory:
    """``AsyncRunHistory`` over a runs table: ``SqlRunHistory``'s statement, awaited.

    Differences from the port contract: those of ``SqlRunHistory``.
    """

    def __init__(self, bind: AsyncBind, mapping: RunTableMapping = REFERENCE_RUNS) -> None:
        self.bind = bind
        self.mapping = mapping
        self._port = SqlRunHistory(_engine_of(bind), mapping)

    def _on(self, connection: sa.Connection) -> SqlRunHistory:
        # The sync port could not read the table at build (no event loop there): its first
        # call refuses a text context, later ones find it checked (``refuse_text_context``).
        refuse_text_context(connection, self.mapping)
        return _rebound(self._port, connection)

    async def latest_successes(
        self, requests: Collection[LaterSuccessRequest], *, as_of: datetime
    ) -> Mapping[LaterSuccessRequest, RunFact]:
        """See ``RunHistory.latest_successes``."""
        return await _through(
            self.bind,
            lambda connection: self._on(connection).latest_successes(requests, as_of=as_of),
        )

    async def latest_successes_with_states(
        self,
        requests: Collection[LaterSuccessRequest],
        states: Mapping[str, tuple[AsyncStateSource, Collection[StateRequest]]],
        *,
        as_of: datetime,
    ) -> tuple[Mapping[LaterSuccessRequest, RunFact], dict[str, Mapping[StateRequest, StateFact]]]:
        """See ``AsyncJointEvidence``: ``SqlRunHistory``'s joint read, awaited, for the
        ``AsyncSqlStateSource`` values over this history's bind (the others are left out)."""
        joined = {
            kind: (source, asked)
            for kind, (source, asked) in states.items()
            if isinstance(source, AsyncSqlStateSource) and source.bind is self.bind
        }

        def read(
            connection: sa.Connection,
        ) -> tuple[
            Mapping[LaterSuccessRequest, RunFact], dict[str, Mapping[StateRequest, StateFact]]
        ]:
            # Every port rebound to the one connection: the sync history then joins them all.
            sync: dict[str, tuple[StateSource, Collection[StateRequest]]] = {
                kind: (_rebound(source._port, connection), asked)
                for kind, (source, asked) in joined.items()
            }
            return self._on(connection).latest_successes_with_states(requests, sync, as_of=as_of)

        return await _through(self.bind, read)


class AsyncSqlStateSource:
    """``AsyncStateSource`` over one state table: ``SqlStateSource``'s statement, awaited.

    Differences from the port contract: those of ``SqlStateSource``.
    """

    def __init__(self, bind: AsyncBind, mapping: StateTableMapping) -> None:
        self.bind = bind
        self.mapping = mapping
        self._port = SqlStateSource(_engine_of(bind), mapping)
        self.kind = self._port.kind

    async def current_states(
        self, requests: Collection[StateRequest]
    ) -> Mapping[StateRequest, StateFact]:
        """See ``StateSource.current_states``."""
        return await _through(
            self.bind,
            lambda connection: _rebound(self._port, connection).current_states(requests),
        )
