"""A mapping that misreads its tables' declared column types is warned about once, when the
service is built: ISO text read as the reference storage, integer ids compared as text and text
ids as integers (issue 10: a mapping under which most rows read as invalid never passes
silently)."""

from __future__ import annotations

import asyncio
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.support import async_engine_of

from runactionability import (
    ActionabilityService,
    ConfigurationError,
    MappingMismatchWarning,
    VisibleScopes,
)
from runactionability.adapters.sqlalchemy import (
    IdTypes,
    Instants,
    RunTableMapping,
    StateIdTypes,
    StateTableMapping,
    create_schema,
)
from runactionability.adapters.sqlalchemy.declared import mapping_mismatches
from runactionability.service import AsyncActionabilityService

STATE = "provider_connection"
# Only one state kind is mapped: the resolver's warning about the others is not under test.
pytestmark = pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")


def _host(engine: sa.Engine, *, tenant: sa.types.TypeEngine[int] | sa.String) -> None:
    """A host's runs table (ISO-text timestamps on SQLite) and one state table."""
    metadata = sa.MetaData()
    when = sa.DateTime(timezone=engine.dialect.name == "postgresql")
    sa.Table(
        "jobs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type", sa.Text),
        sa.Column("workspace_id", tenant),
        sa.Column("environment_id", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.Column("created_at", when),
        sa.Column("started_at", when),
        sa.Column("completed_at", when),
        sa.Column("subject", sa.Text),
        sa.Column("context", sa.JSON),
    )
    sa.Table(
        "connections",
        metadata,
        sa.Column("workspace_id", tenant),
        sa.Column("environment_id", sa.Text),
        sa.Column("subject", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("proven_at", when),
    )
    metadata.create_all(engine)


def _instants(engine: sa.Engine) -> Instants:
    """The storage that reads ``_host``'s timestamps on ``engine``."""
    return Instants.timestamptz() if engine.dialect.name == "postgresql" else Instants.iso_text()


def _state(**fields: object) -> dict[str, StateTableMapping]:
    return {STATE: StateTableMapping(kind=STATE, table="connections", attributes=None, **fields)}  # type: ignore[arg-type]


def test_iso_text_read_as_native_on_sqlite_is_warned_with_both_fixes(
    tmp_path: pytest.TempPathFactory,
) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path}/host.sqlite")
    _host(engine, tenant=sa.Text())
    runs = RunTableMapping(table="jobs")
    with pytest.warns(MappingMismatchWarning) as caught:
        ActionabilityService(engine, runs=runs, states=_state(timestamps=Instants.iso_text()))
    (warned,) = [w for w in caught if w.category is MappingMismatchWarning]
    text = str(warned.message)
    assert "jobs: created_at, started_at, completed_at are DATETIME" in text
    assert "ISO-8601 text" in text
    assert "timestamps='native'" in text
    assert "timestamps=Instants.iso_text()" in text
    assert 'timestamps = "iso_text" in [runs]' in text
    assert "connections" not in text
    engine.dispose()


def test_integer_ids_mapped_as_text_are_warned(sql_engine: sa.Engine) -> None:
    _host(sql_engine, tenant=sa.Integer())
    runs = RunTableMapping(table="jobs", timestamps=_instants(sql_engine))
    states = _state(timestamps=_instants(sql_engine))
    found = [str(m) for m in mapping_mismatches(sql_engine, runs, states)]
    assert len(found) == 2, found
    assert "jobs: workspace_id is INTEGER, which holds integer ids" in found[0]
    assert "map ids=IdTypes(workspace='integer')" in found[0]
    assert 'ids = { workspace = "integer" } in [runs]' in found[0]
    assert "map ids=StateIdTypes(workspace='integer')" in found[1]
    assert f"in [states.{STATE}]" in found[1]
    with pytest.warns(MappingMismatchWarning, match="workspace_id is INTEGER"):
        ActionabilityService(sql_engine, runs=runs, states=states)


def test_text_ids_mapped_as_integers_are_warned(sql_engine: sa.Engine) -> None:
    _host(sql_engine, tenant=sa.Text())
    instants = _instants(sql_engine)
    runs = RunTableMapping(
        table="jobs", timestamps=instants, ids=IdTypes(workspace="integer", subject="integer")
    )
    states = _state(timestamps=instants, ids=StateIdTypes(environment="integer"))
    found = {(m.table, m.column, m.python) for m in mapping_mismatches(sql_engine, runs, states)}
    assert found == {
        ("jobs", "workspace_id", "ids=IdTypes(workspace='text')"),
        ("jobs", "subject", "ids=IdTypes(subject='text')"),
        ("connections", "environment_id", "ids=StateIdTypes(environment='text')"),
    }


def test_a_correct_mapping_and_the_reference_schema_are_not_warned(sql_engine: sa.Engine) -> None:
    _host(sql_engine, tenant=sa.Integer())
    create_schema(sql_engine)
    instants = _instants(sql_engine)
    runs = RunTableMapping(table="jobs", timestamps=instants, ids=IdTypes(workspace="integer"))
    states = _state(timestamps=instants, ids=StateIdTypes(workspace="integer"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MappingMismatchWarning)
        ActionabilityService(sql_engine, runs=runs, states=states)
        ActionabilityService(sql_engine)


def test_a_missing_table_is_left_to_the_statements(sql_engine: sa.Engine) -> None:
    assert mapping_mismatches(sql_engine, RunTableMapping(table="nowhere"), {}) == []


def test_text_timestamps_read_as_timestamptz_on_postgresql(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no timestamptz")
    _host(sql_engine, tenant=sa.Text())
    naive = sa.MetaData()
    sa.Table("naive_runs", naive, *(sa.Column(c, sa.DateTime) for c in ("a", "b", "c")))
    naive.create_all(sql_engine)
    runs = RunTableMapping(
        table="naive_runs", id="a", created_at="a", started_at="b", completed_at="c"
    )
    (found,) = mapping_mismatches(sql_engine, runs, {})
    assert found.holds == "wall-clock times without a time zone"
    assert found.file == 'timestamps = "naive:<zone>"'


def test_the_async_service_warns_once_on_its_first_session(sql_engine: sa.Engine) -> None:
    _host(sql_engine, tenant=sa.Integer())
    runs = RunTableMapping(table="jobs", timestamps=_instants(sql_engine))
    states = _state(timestamps=_instants(sql_engine), ids=StateIdTypes(workspace="integer"))
    scopes = VisibleScopes({"1"})
    as_of = datetime(2026, 1, 1, tzinfo=UTC)

    async def sessions() -> None:
        engine = async_engine_of(sql_engine)
        service = AsyncActionabilityService(engine, runs=runs, states=states)
        try:
            with pytest.warns(MappingMismatchWarning, match="workspace_id is INTEGER") as caught:
                async with service.session(scopes=scopes, as_of=as_of):
                    pass
            assert [w.category for w in caught].count(MappingMismatchWarning) == 1
            with warnings.catch_warnings():
                warnings.simplefilter("error", MappingMismatchWarning)
                async with service.session(scopes=scopes, as_of=as_of):
                    pass
        finally:
            await engine.dispose()

    asyncio.run(sessions())


STORED = Instants.iso_text()


def test_a_database_not_yet_reachable_is_checked_at_the_first_session(tmp_path: Path) -> None:
    folder = tmp_path / "not-yet"  # SQLite cannot open a file in a folder that does not exist
    engine = sa.create_engine(f"sqlite:///{folder}/host.sqlite")
    runs = RunTableMapping(table="jobs")
    with warnings.catch_warnings():
        warnings.simplefilter("error", MappingMismatchWarning)
        # Built at a host's start-up before its database is up: not refused for it.
        service = ActionabilityService(
            engine, runs=runs, states=_state(timestamps=_instants(engine))
        )
    folder.mkdir()
    _host(engine, tenant=sa.Text())
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    expected = pytest.warns(MappingMismatchWarning, match="created_at, started_at, completed_at")
    with expected, service.session(scopes=VisibleScopes({"w"}), as_of=as_of) as session:
        session.dashboard(top=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MappingMismatchWarning)  # once per service
        with service.session(scopes=VisibleScopes({"w"}), as_of=as_of) as session:
            session.dashboard(top=0)
    engine.dispose()


def test_an_unreachable_server_fails_the_request_not_the_service() -> None:
    unreachable = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/test")
    service = ActionabilityService(unreachable)
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    with (
        pytest.raises(sa.exc.OperationalError),
        service.session(scopes=VisibleScopes({"w"}), as_of=as_of),
    ):
        pass
    unreachable.dispose()


def test_a_service_built_before_its_tables_exist_is_refused_naming_them(tmp_path: Path) -> None:
    # Reachable but not migrated: every request would fail, so the build does (audit F3), as a
    # configuration file's service already did; only an unreachable database is waited for.
    engine = sa.create_engine(f"sqlite:///{tmp_path}/host.sqlite")
    runs = RunTableMapping(table="jobs")
    refused = pytest.raises(ConfigurationError, match=r"no table 'jobs' .*, 'connections'")
    with refused:
        ActionabilityService(engine, runs=runs, states=_state(timestamps=STORED))
    engine.dispose()
