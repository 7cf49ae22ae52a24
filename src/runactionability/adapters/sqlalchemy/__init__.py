"""SQLAlchemy Core adapter: the ports over SQLite (embedded) and PostgreSQL (production).

``schema`` holds the reference tables; ``mapping`` points the adapter at a host's own tables;
``SqlRunHistory``, ``SqlStateSource`` and ``SqlRunSource`` implement the ports, each batch of
evidence in one statement per kind; ``SqlPushdown`` counts and pages current follow-up inside the
database; ``AsyncSqlRunHistory`` and ``AsyncSqlStateSource`` are the async ports over SQLAlchemy's
asyncio engines; ``check`` tells whether a mapping reads a host's tables as the host means
them. See ``docs/adapters.md`` and ``docs/performance.md``.

The async ports are imported on first use: SQLAlchemy's asyncio layer needs greenlet (the
``async`` extra), which a sync host does not install.
"""

from typing import TYPE_CHECKING, Any

from runactionability.adapters.sqlalchemy._reading import CHUNK_SIZE, Bind
from runactionability.adapters.sqlalchemy.backend import (
    SqlBackend,
    async_database_url,
    database_url,
    open_backend,
)
from runactionability.adapters.sqlalchemy.doctor import DEFAULT_SAMPLE, check
from runactionability.adapters.sqlalchemy.history import SqlRunHistory
from runactionability.adapters.sqlalchemy.ids import IdType, IdTypes, StateIdTypes
from runactionability.adapters.sqlalchemy.instants import Instants
from runactionability.adapters.sqlalchemy.mapping import (
    REFERENCE_RUNS,
    STATE_KINDS,
    RunTableMapping,
    StateTableMapping,
    UnmappedValue,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.problem_predicate import problem_rows
from runactionability.adapters.sqlalchemy.pushdown import (
    FollowUpItem,
    FollowUpPage,
    PushdownCounts,
    SqlPushdown,
    SupersedeForm,
    count_by_status,
    current_follow_up_page,
)
from runactionability.adapters.sqlalchemy.runs import SqlRunSource
from runactionability.adapters.sqlalchemy.schema import (
    create_schema,
    insert_runs,
    insert_states,
    metadata,
    operation_runs,
    state_tables,
)
from runactionability.adapters.sqlalchemy.states import SqlStateSource
from runactionability.adapters.sqlalchemy.types import JsonDocument, UtcTimestamp

if TYPE_CHECKING:
    from runactionability.adapters.sqlalchemy.aio import (
        AsyncBind,
        AsyncSqlRunHistory,
        AsyncSqlStateSource,
    )

_ASYNC = frozenset({"AsyncBind", "AsyncSqlRunHistory", "AsyncSqlStateSource"})


def __getattr__(name: str) -> Any:
    if name in _ASYNC:
        from runactionability.adapters.sqlalchemy import aio

        return getattr(aio, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_SAMPLE",
    "REFERENCE_RUNS",
    "STATE_KINDS",
    "AsyncBind",
    "AsyncSqlRunHistory",
    "AsyncSqlStateSource",
    "Bind",
    "FollowUpItem",
    "FollowUpPage",
    "IdType",
    "IdTypes",
    "Instants",
    "JsonDocument",
    "PushdownCounts",
    "RunTableMapping",
    "SqlBackend",
    "SqlPushdown",
    "SqlRunHistory",
    "SqlRunSource",
    "SqlStateSource",
    "StateIdTypes",
    "StateTableMapping",
    "SupersedeForm",
    "UnmappedValue",
    "UtcTimestamp",
    "async_database_url",
    "check",
    "count_by_status",
    "create_schema",
    "current_follow_up_page",
    "database_url",
    "insert_runs",
    "insert_states",
    "metadata",
    "open_backend",
    "operation_runs",
    "problem_rows",
    "reference_state_mappings",
    "state_tables",
]
