"""SQLAlchemy Core adapter: the ports over SQLite (embedded) and PostgreSQL (production).

``schema`` holds the reference tables; ``mapping`` points the adapter at a host's own tables;
``SqlRunHistory``, ``SqlStateSource`` and ``SqlRunSource`` implement the ports, each batch of
evidence in one statement per kind. See ``docs/adapters.md``.
"""

from runactionability.adapters.sqlalchemy._reading import CHUNK_SIZE, Bind
from runactionability.adapters.sqlalchemy.backend import SqlBackend, open_backend
from runactionability.adapters.sqlalchemy.history import SqlRunHistory
from runactionability.adapters.sqlalchemy.mapping import (
    REFERENCE_RUNS,
    STATE_KINDS,
    RunTableMapping,
    StateTableMapping,
    UnmappedValue,
    reference_state_mappings,
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

__all__ = [
    "CHUNK_SIZE",
    "REFERENCE_RUNS",
    "STATE_KINDS",
    "Bind",
    "JsonDocument",
    "RunTableMapping",
    "SqlBackend",
    "SqlRunHistory",
    "SqlRunSource",
    "SqlStateSource",
    "StateTableMapping",
    "UnmappedValue",
    "UtcTimestamp",
    "create_schema",
    "insert_runs",
    "insert_states",
    "metadata",
    "open_backend",
    "operation_runs",
    "reference_state_mappings",
    "state_tables",
]
