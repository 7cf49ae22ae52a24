"""A service over a host's runs table maps only the reference state tables the database has when
``states`` is omitted, and refuses a mapping of a table the database lacks when it is built, as a
configuration file's service does (audit F3). Before, it mapped all six reference tables and built
silently, and then every request failed (``no such table``). A database that cannot be reached
is still not refused at build: its first session checks."""

from __future__ import annotations

import asyncio
import re
import warnings
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, async_engine_of, run

from runactionability import (
    ActionabilityService,
    ConfigurationError,
    MissingStateSourceWarning,
    VisibleScopes,
)
from runactionability.adapters.sqlalchemy import (
    RunTableMapping,
    StateTableMapping,
    create_schema,
    insert_runs,
    reference_state_mappings,
)
from runactionability.service import AsyncActionabilityService

ACME = VisibleScopes({"acme"})
RUNS = RunTableMapping(table="operation_runs")
"""A host's hand-built runs mapping (of the reference table, under its own name)."""


def _host(engine: sa.Engine, *keep: str) -> None:
    """The runs table with one failed run; of the reference state tables, only ``keep``'s."""
    create_schema(engine)
    insert_runs(engine, [run("1")])
    with engine.begin() as connection:
        for kind, mapping in reference_state_mappings().items():
            if kind not in keep:
                connection.execute(sa.text(f"DROP TABLE {mapping.table}"))


def test_states_omitted_map_the_reference_tables_present(sql_engine: sa.Engine) -> None:
    _host(sql_engine, "provider_connection")
    with pytest.warns(MissingStateSourceWarning) as caught:
        service = ActionabilityService(sql_engine, runs=RUNS)
    told = str(caught[0].message)
    assert "'backup_set'" in told
    assert "'provider_connection'" not in told
    with service.session(scopes=ACME, as_of=AS_OF) as session:
        assert session.dashboard().counts.needs_attention == 1
        assert session.explain("1") is not None
    service.close()


def test_states_omitted_and_none_present_still_answer(sql_engine: sa.Engine) -> None:
    _host(sql_engine)
    with pytest.warns(MissingStateSourceWarning):
        service = ActionabilityService(sql_engine, runs=RUNS)
    with service.session(scopes=ACME, as_of=AS_OF) as session:
        page = session.follow_up_page()
    assert [item.run_id for item in page.items] == [1]
    service.close()


@pytest.mark.parametrize(
    ("runs", "states", "named"),
    [
        (RunTableMapping(table="nope"), None, "'nope' (the runs mapping)"),
        (
            RUNS,
            {"provider_connection": StateTableMapping(kind="provider_connection", table="gone")},
            "'gone' (the provider_connection state mapping)",
        ),
    ],
)
def test_a_mapped_table_the_database_lacks_refuses_the_service(
    sql_engine: sa.Engine,
    runs: RunTableMapping,
    states: dict[str, StateTableMapping] | None,
    named: str,
) -> None:
    _host(sql_engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingStateSourceWarning)
        told = re.escape(f"the database has no table {named}")
        with pytest.raises(ConfigurationError, match=told):
            ActionabilityService(sql_engine, runs=runs, states=states)


def test_an_unreachable_database_is_not_refused_but_checked_at_the_first_session(
    tmp_path: Path,
) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'not-yet' / 'host.sqlite'}")
    states = {"provider_connection": StateTableMapping(kind="provider_connection", table="gone")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingStateSourceWarning)
        service = ActionabilityService(engine, runs=RUNS, states=states)  # not up: built
    (tmp_path / "not-yet").mkdir()
    _host(engine)
    with (
        pytest.raises(ConfigurationError, match="'gone'"),
        service.session(scopes=ACME, as_of=AS_OF),
    ):
        pass
    engine.dispose()


def test_the_async_service_maps_the_present_tables_at_its_first_session(
    sql_engine: sa.Engine,
) -> None:
    _host(sql_engine, "provider_connection")

    async def sessions() -> int:
        engine = async_engine_of(sql_engine)
        service = AsyncActionabilityService(engine, runs=RUNS)
        try:
            with pytest.warns(MissingStateSourceWarning, match="'backup_set'"):
                async with service.session(scopes=ACME, as_of=AS_OF) as session:
                    summary = await session.dashboard()
            return summary.counts.needs_attention
        finally:
            await engine.dispose()

    assert asyncio.run(sessions()) == 1


def test_the_async_service_refuses_a_missing_table_at_its_first_session(
    sql_engine: sa.Engine,
) -> None:
    _host(sql_engine)

    async def sessions() -> None:
        engine = async_engine_of(sql_engine)
        service = AsyncActionabilityService(engine, runs=RunTableMapping(table="nope"))
        try:
            with pytest.raises(ConfigurationError, match="'nope' \\(the runs mapping\\)"):
                async with service.session(scopes=ACME, as_of=AS_OF):
                    pass
        finally:
            await engine.dispose()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingStateSourceWarning)
        asyncio.run(sessions())


def test_a_margin_set_on_the_async_services_sync_survives_its_first_session(
    sql_engine: sa.Engine,
) -> None:
    """The first session maps the reference tables present by rebuilding ``sync``: a margin a
    host set on it before (as the example web app does) is kept, not reset to the default."""
    _host(sql_engine, "provider_connection")
    margin = timedelta(minutes=7)

    async def sessions() -> timedelta:
        engine = async_engine_of(sql_engine)
        service = AsyncActionabilityService(engine, runs=RUNS)
        service.sync.change_margin = margin
        try:
            with pytest.warns(MissingStateSourceWarning, match="'backup_set'"):
                async with service.session(scopes=ACME, as_of=AS_OF):
                    pass
            return service.sync.change_margin
        finally:
            await engine.dispose()

    assert asyncio.run(sessions()) == margin


def test_the_async_services_sync_taken_before_its_first_session_maps_the_present_tables(
    sql_engine: sa.Engine,
) -> None:
    """A host that took ``sync`` before the first session holds the service the session maps,
    not one over all six reference tables, whose every request would fail on a missing one."""
    _host(sql_engine, "provider_connection")

    async def sessions() -> tuple[int, int]:
        engine = async_engine_of(sql_engine)
        service = AsyncActionabilityService(engine, runs=RUNS)
        held = service.sync
        try:
            with pytest.warns(MissingStateSourceWarning, match="'backup_set'"):
                # Concurrent first sessions: the one that maps first maps for all of them.
                assert await asyncio.gather(*(_dashboard(service) for _ in range(4))) == [1] * 4
            async with engine.connect() as connection:
                counted = await connection.run_sync(partial(_needing_attention, held))
            async with service.session(scopes=ACME, as_of=AS_OF) as session:
                summary = await session.dashboard()
            return counted, summary.counts.needs_attention
        finally:
            await engine.dispose()

    assert asyncio.run(sessions()) == (1, 1)


def test_the_async_services_sync_read_first_maps_the_present_tables_itself(
    sql_engine: sa.Engine,
) -> None:
    """A host may read ``sync`` through its own connection before any async session: that first
    session maps the tables present as the async one would."""
    _host(sql_engine, "provider_connection")

    async def sessions() -> tuple[int, int]:
        engine = async_engine_of(sql_engine)
        service = AsyncActionabilityService(engine, runs=RUNS)
        try:
            async with engine.connect() as connection:
                with pytest.warns(MissingStateSourceWarning, match="'backup_set'"):
                    counted = await connection.run_sync(partial(_needing_attention, service.sync))
            async with service.session(scopes=ACME, as_of=AS_OF) as session:
                summary = await session.dashboard()
            return counted, summary.counts.needs_attention
        finally:
            await engine.dispose()

    assert asyncio.run(sessions()) == (1, 1)


def _needing_attention(service: ActionabilityService, connection: sa.Connection) -> int:
    with service.session(scopes=ACME, as_of=AS_OF, connection=connection) as session:
        return session.dashboard().counts.needs_attention


async def _dashboard(service: AsyncActionabilityService) -> int:
    async with service.session(scopes=ACME, as_of=AS_OF) as session:
        return (await session.dashboard()).counts.needs_attention
