"""Fixtures of the SQL adapter tests: the same stores over memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.conftest import AS_OF, BACKENDS

from runactionability import (
    OperationCatalog,
    OperationRun,
    Registry,
    Resolver,
    RunHistory,
    RunSource,
    StateFact,
    StateSource,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryRunSource, MemoryStateSource
from runactionability.adapters.sqlalchemy import (
    STATE_KINDS,
    create_schema,
    insert_runs,
    insert_states,
    metadata,
    open_backend,
)

T0 = AS_OF - timedelta(days=10)
REGISTRY = Registry.default()
CATALOG = OperationCatalog.reference()


def at(minutes: float) -> datetime:
    """An instant ``minutes`` after T0 (ten days before AS_OF)."""
    return T0 + timedelta(minutes=minutes)


def run(run_id: int, type_: str = "inventory.sync", **fields: Any) -> OperationRun:
    """A completed run in scope (w1, e1) that ended ``outcome`` (failed by default).

    ``start`` and ``end`` are minutes after T0; ``created_at`` defaults to the start.
    """
    start = fields.pop("start", 0)
    end = fields.pop("end", start + 1)
    values: dict[str, Any] = {
        "id": run_id,
        "type": type_,
        "workspace_id": "w1",
        "environment_id": "e1",
        "status": "completed",
        "outcome": "failed",
        "created_at": at(start),
        "started_at": None,
        "completed_at": at(end),
        "context": {},
    }
    values.update(fields)
    return OperationRun(**values)


def fact(kind: str, subject: str | None, status: str, proven: float, **fields: Any) -> StateFact:
    values: dict[str, Any] = {
        "kind": kind,
        "workspace_id": "w1",
        "environment_id": "e1",
        "subject": subject,
        "status": status,
        "proven_at": at(proven),
    }
    values.update(fields)
    return StateFact(**values)


@attrs.frozen
class Ports:
    """The three ports over one store, and a resolver wired to them."""

    name: str
    history: RunHistory
    states: dict[str, StateSource]
    runs: RunSource

    def resolver(self) -> Resolver:
        return Resolver(
            history=self.history,
            states=self.states,
            registry=REGISTRY,
            catalog=CATALOG,
            strict=True,
        )


Loader = Callable[[Iterable[OperationRun], Iterable[StateFact]], Ports]


def memory_ports(runs: Iterable[OperationRun], facts: Iterable[StateFact]) -> Ports:
    runs = list(runs)
    facts = list(facts)
    return Ports(
        name="memory",
        history=MemoryRunHistory(runs),
        states={
            kind: MemoryStateSource(kind, [f for f in facts if f.kind == kind])
            for kind in STATE_KINDS
        },
        runs=MemoryRunSource(runs),
    )


def sql_ports(engine: sa.Engine, runs: Iterable[OperationRun], facts: Iterable[StateFact]) -> Ports:
    create_schema(engine)
    insert_runs(engine, runs, catalog=CATALOG)
    insert_states(engine, facts)
    return open_ports(engine)


def open_ports(engine: sa.Engine) -> Ports:
    backend = open_backend(engine, catalog=CATALOG)
    return Ports(
        name=engine.dialect.name,
        history=backend.history,
        states=dict(backend.states),
        runs=backend.runs,
    )


def clear(engine: sa.Engine) -> None:
    """Delete every row of the reference tables (cheaper than recreating them)."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(params=["memory", *BACKENDS])
def load(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Loader]:
    """Load runs and states into a fresh store of the parametrized kind; returns its ports."""
    if request.param == "memory":
        yield memory_ports
        return
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'contract.sqlite'}")
        yield lambda runs, facts: sql_ports(engine, runs, facts)
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    yield lambda runs, facts: sql_ports(engine, runs, facts)
    with engine.begin() as connection:
        metadata.drop_all(connection)


@pytest.fixture
def statements() -> Callable[[sa.Engine], list[str]]:
    """Start recording the statements an engine executes; returns the live list."""
    listeners: list[tuple[sa.Engine, Callable[..., None]]] = []

    def record(engine: sa.Engine) -> list[str]:
        seen: list[str] = []

        def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        sa.event.listen(engine, "before_cursor_execute", listener)
        listeners.append((engine, listener))
        return seen

    yield record  # type: ignore[misc]
    for engine, listener in listeners:
        sa.event.remove(engine, "before_cursor_execute", listener)
