"""The async SQL ports answer as the sync ones: an ``AsyncResolver`` over them, and the async
consumers on top, give the sync path's results on both engines, through the async drivers."""

from __future__ import annotations

import asyncio
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tests.support import async_engine_of

from runactionability import (
    ActionabilityResult,
    AsyncResolver,
    AsyncRunHistory,
    AsyncStateSource,
    Registry,
    Resolver,
    VisibleScopes,
    assess,
    assess_async,
    explain,
    explain_async,
)
from runactionability.adapters.sqlalchemy import (
    AsyncSqlRunHistory,
    AsyncSqlStateSource,
    open_backend,
    reference_state_mappings,
)
from runactionability.consumers import ActiveRuns, Assessment, Explanation, read_runs
from runactionability.testing import count_statements

REGISTRY = Registry.default()
CATALOG = REGISTRY.catalog()
SCOPES = VisibleScopes({"acme", "globex"})


def async_resolver(bind: AsyncEngine | AsyncConnection) -> AsyncResolver:
    history: AsyncRunHistory = AsyncSqlRunHistory(bind)
    states: dict[str, AsyncStateSource] = {
        kind: AsyncSqlStateSource(bind, mapping)
        for kind, mapping in reference_state_mappings().items()
    }
    return AsyncResolver(history=history, states=states, registry=REGISTRY, catalog=CATALOG)


def sync_answers(engine: sa.Engine, as_of: datetime) -> tuple[list[Assessment], list[Explanation]]:
    backend = open_backend(engine, catalog=CATALOG)
    resolver = Resolver(
        history=backend.history, states=backend.states, registry=REGISTRY, catalog=CATALOG
    )
    runs = read_runs(backend.runs, SCOPES.query(as_of=as_of))
    items = assess(resolver, runs, scopes=SCOPES, as_of=as_of)
    active = ActiveRuns(runs, catalog=CATALOG, scopes=SCOPES)
    kinds = backend.states
    told = [
        explain(resolver, item.run, scopes=SCOPES, as_of=as_of, active=active, state_kinds=kinds)
        for item in items[:5]
    ]
    return items, told


def test_the_async_ports_answer_as_the_sync_ones(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    items, told = sync_answers(engine, as_of)
    runs = [item.run for item in items]
    kinds = reference_state_mappings().keys()

    async def on_engine() -> tuple[list[Assessment], list[Explanation]]:
        async_engine = async_engine_of(engine)
        try:
            resolver = async_resolver(async_engine)
            got = await assess_async(resolver, runs, scopes=SCOPES, as_of=as_of)
            active = ActiveRuns(runs, catalog=CATALOG, scopes=SCOPES)
            explained = [
                await explain_async(
                    resolver, run, scopes=SCOPES, as_of=as_of, active=active, state_kinds=kinds
                )
                for run in runs[:5]
            ]
            return got, explained
        finally:
            await async_engine.dispose()

    assert asyncio.run(on_engine()) == (items, told)
    assert any(item.needs_attention for item in items)
    assert any(not item.needs_attention for item in items)


def test_a_batch_reads_one_snapshot_through_a_connection(
    demo: tuple[sa.Engine, datetime],
) -> None:
    engine, as_of = demo
    items, _ = sync_answers(engine, as_of)
    runs = [item.run for item in items]

    async def in_transaction() -> list[Assessment]:
        async_engine = async_engine_of(engine)
        try:
            async with async_engine.connect() as connection, connection.begin():
                resolver = async_resolver(connection)
                got = await assess_async(resolver, runs, scopes=SCOPES, as_of=as_of)
                assert connection.in_transaction()
                return got
        finally:
            await async_engine.dispose()

    assert asyncio.run(in_transaction()) == items


def test_an_async_batch_reads_every_evidence_kind_in_one_statement(
    demo: tuple[sa.Engine, datetime],
) -> None:
    engine, as_of = demo
    runs = read_runs(open_backend(engine, catalog=CATALOG).runs, SCOPES.query(as_of=as_of))
    backend = open_backend(engine, catalog=CATALOG)
    expected = Resolver(
        history=backend.history, states=backend.states, registry=REGISTRY, catalog=CATALOG
    ).evaluate_many(runs, as_of=as_of, scopes=SCOPES)

    async def counted() -> tuple[list[ActionabilityResult], list[str]]:
        async_engine = async_engine_of(engine)
        try:
            resolver = async_resolver(async_engine)
            # The history's first call reads its table's context type once (PostgreSQL): a
            # cost of the engine, not of each batch.
            await AsyncSqlRunHistory(async_engine).latest_successes([], as_of=as_of)
            with count_statements(async_engine) as seen:
                got = await resolver.evaluate_many(runs, as_of=as_of, scopes=SCOPES)
            return got, seen.statements
        finally:
            await async_engine.dispose()

    got, statements = asyncio.run(counted())
    assert got == expected
    # Later successes and three state kinds: the history reads them all with its own.
    assert len(statements) == 1
