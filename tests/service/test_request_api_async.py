"""Issue 10, item 3: the async twin of the request API answers exactly as the sync one, on both
engines, through the async drivers, and compiles nothing after the first requests."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, async_engine_of, compilations

from runactionability import (
    ActionabilityService,
    AsyncActionabilityService,
    AsyncRequestSession,
    EveryWorkspace,
    Registry,
    RequestSession,
    Resolver,
)
from runactionability.adapters.sqlalchemy import async_database_url, create_schema, open_backend
from runactionability.config import Config, load_config
from runactionability.consumers import AssessedPage, VisibleScopes
from runactionability.demo import Size, generate, load
from runactionability.errors import (
    ConfigurationError,
    MissingStateSourceWarning,
    NoWorkspacesError,
    UsageError,
)
from runactionability.model import RunId

REGISTRY = Registry.default()
CATALOG = REGISTRY.catalog()
T = TypeVar("T")


def on_async(
    engine: sa.Engine, work: Callable[[AsyncActionabilityService], Awaitable[T]], **kwargs: Any
) -> T:
    """``work`` on an async service over what ``engine`` sees, in an event loop of its own."""

    async def run() -> T:
        async_engine = async_engine_of(engine)
        try:
            service = AsyncActionabilityService(
                async_engine, registry=REGISTRY, catalog=CATALOG, **kwargs
            )
            return await work(service)
        finally:
            await async_engine.dispose()

    return asyncio.run(run())


def _sync_answers(s: RequestSession, hidden: RunId) -> list[object]:
    board = s.dashboard(top=5)
    first = s.follow_up_page(limit=2)
    assert first.next_cursor is not None
    run_id = board.top[0].run.id
    return [
        board,
        first,
        s.follow_up_page(limit=2, cursor=first.next_cursor),
        s.history_page(limit=4),
        s.active_work(newest=3),
        s.explain(run_id),
        s.primary_action(run_id),
        s.explain(hidden),
        s.primary_action(hidden),
        s.explain("no-such-run"),
        s.primary_action("no-such-run"),
    ]


async def _async_answers(s: AsyncRequestSession, hidden: RunId) -> list[object]:
    board = await s.dashboard(top=5)
    first = await s.follow_up_page(limit=2)
    assert first.next_cursor is not None
    run_id = board.top[0].run.id
    return [
        board,
        first,
        await s.follow_up_page(limit=2, cursor=first.next_cursor),
        await s.history_page(limit=4),
        await s.active_work(newest=3),
        await s.explain(run_id),
        await s.primary_action(run_id),
        await s.explain(hidden),
        await s.primary_action(hidden),
        await s.explain("no-such-run"),
        await s.primary_action("no-such-run"),
    ]


def _hidden_run(service: ActionabilityService, as_of: datetime) -> RunId:
    with service.session(scopes=VisibleScopes({"globex"}), as_of=as_of) as s:
        return s.dashboard(top=1).top[0].run.id


def test_async_answers_equal_sync(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    hidden = _hidden_run(service, as_of)
    scopes = VisibleScopes({"acme"})
    with service.session(scopes=scopes, as_of=as_of) as s:
        expected = _sync_answers(s, hidden)

    async def work(twin: AsyncActionabilityService) -> list[object]:
        async with twin.session(scopes=scopes, as_of=as_of) as s:
            return await _async_answers(s, hidden)

    got = on_async(engine, work)
    assert got == expected
    assert expected[5] is not None  # the top run is explained
    assert expected[7:] == [None, None, None, None]  # hidden and missing read alike


def test_every_workspace_reads_alike(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=EveryWorkspace(), as_of=as_of) as s:
        expected = (s.scopes, s.dashboard(top=3))

    async def work(twin: AsyncActionabilityService) -> object:
        async with twin.session(scopes=EveryWorkspace(), as_of=as_of) as s:
            return (s.scopes, await s.dashboard(top=3))

    assert on_async(engine, work) == expected
    assert expected[0] == VisibleScopes.every_workspace()


def test_a_bad_as_of_is_refused_before_a_connection(demo: tuple[sa.Engine, datetime]) -> None:
    engine, _ = demo

    async def work(twin: AsyncActionabilityService) -> None:
        naive = datetime(2026, 11, 20, 12)
        with pytest.raises(UsageError, match="as_of must"):
            async with twin.session(scopes=VisibleScopes({"acme"}), as_of=naive):
                pass
        assert twin.engine.pool.checkedout() == 0  # type: ignore[attr-defined]

    on_async(engine, work)


def test_many_sessions_gathered_on_one_service(demo: tuple[sa.Engine, datetime]) -> None:
    # One cold service, sessions of three actors opened at once: each answers as the sync API.
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    actors = [VisibleScopes({"acme"}), VisibleScopes({"globex"}), VisibleScopes({"acme", "globex"})]
    expected = []
    for scopes in actors:
        with service.session(scopes=scopes, as_of=as_of) as s:
            expected.append((s.dashboard(top=4), s.follow_up_page(3), s.history_page(3)))

    async def request(twin: AsyncActionabilityService, scopes: VisibleScopes) -> object:
        async with twin.session(scopes=scopes, as_of=as_of) as s:
            return (await s.dashboard(top=4), await s.follow_up_page(3), await s.history_page(3))

    async def work(twin: AsyncActionabilityService) -> list[object]:
        return list(await asyncio.gather(*(request(twin, actors[i % 3]) for i in range(12))))

    got = on_async(engine, work)
    assert got == [expected[i % 3] for i in range(12)]


def test_calls_gathered_on_one_session_take_turns(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    scopes = VisibleScopes({"acme", "globex"})
    with service.session(scopes=scopes, as_of=as_of) as s:
        expected = [s.dashboard(top=3), s.follow_up_page(5), s.history_page(5)]

    async def work(twin: AsyncActionabilityService) -> list[object]:
        async with twin.session(scopes=scopes, as_of=as_of) as s:
            return list(
                await asyncio.gather(s.dashboard(top=3), s.follow_up_page(5), s.history_page(5))
            )

    assert on_async(engine, work) == expected


def test_the_event_loop_runs_other_tasks_while_a_session_reads(
    demo: tuple[sa.Engine, datetime],
) -> None:
    # With a blocking driver the dashboard would finish in one step of the loop and the ticker
    # would not move; the async driver hands the loop back at every statement.
    engine, as_of = demo

    async def work(twin: AsyncActionabilityService) -> int:
        ticks = 0
        done = False

        async def ticker() -> None:
            nonlocal ticks
            while not done:
                ticks += 1
                await asyncio.sleep(0)

        async with twin.session(scopes=VisibleScopes({"acme"}), as_of=as_of) as s:
            task = asyncio.create_task(ticker())
            await asyncio.sleep(0)
            before = ticks
            await s.dashboard(top=3)
            during = ticks - before
            done = True
            await task
        return during

    assert on_async(engine, work) > 0


def test_a_second_async_session_compiles_nothing(demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    first, second = VisibleScopes({"acme"}), VisibleScopes({"globex"})

    async def request(twin: AsyncActionabilityService, scopes: VisibleScopes) -> None:
        async with twin.session(scopes=scopes, as_of=as_of) as s:
            summary = await s.dashboard(top=5)
            follow = await s.follow_up_page(limit=1)
            assert follow.next_cursor is not None
            await s.follow_up_page(limit=1, cursor=follow.next_cursor)
            await s.history_page(limit=3)
            await s.active_work()
            assert await s.explain(summary.top[0].run.id) is not None

    async def work(twin: AsyncActionabilityService) -> tuple[list[str], list[str]]:
        with compilations() as cold:
            await request(twin, first)
            await request(twin, second)
        with compilations() as warm:
            await asyncio.gather(request(twin, second), request(twin, first))
        return cold, warm

    cold, warm = on_async(engine, work)
    assert cold, "the counter must see the first requests compile"
    assert warm == []


def test_a_missing_state_source_warns_once_per_service(
    demo: tuple[sa.Engine, datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, as_of = demo
    built: list[Resolver] = []
    original = Resolver.__init__

    def counting(self: Resolver, **kwargs: Any) -> None:
        built.append(self)
        original(self, **kwargs)

    monkeypatch.setattr(Resolver, "__init__", counting)
    with pytest.warns(MissingStateSourceWarning) as told:
        service = ActionabilityService(engine, states={}, registry=REGISTRY, catalog=CATALOG)
    assert len(told) == 1

    async def work(twin: AsyncActionabilityService) -> None:
        for scopes in (VisibleScopes({"acme"}), VisibleScopes({"globex"})):
            async with twin.session(scopes=scopes, as_of=as_of) as s:
                await s.dashboard(top=3)

    with warnings.catch_warnings(record=True) as later:
        warnings.simplefilter("always")
        for scopes in (VisibleScopes({"acme"}), VisibleScopes({"globex"})):
            with service.session(scopes=scopes, as_of=as_of) as s:
                s.dashboard(top=3)
                s.follow_up_page(3)
    assert [str(w.message) for w in later] == []
    assert len(built) == 1

    with pytest.warns(MissingStateSourceWarning) as told:
        on_async(engine, work, states={})
    assert len(told) == 1
    assert len(built) == 2


def test_a_host_connection_reads_in_its_own_transaction(
    demo: tuple[sa.Engine, datetime],
) -> None:
    engine, as_of = demo
    scopes = VisibleScopes({"acme"})
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with service.session(scopes=scopes, as_of=as_of) as s:
        expected = s.dashboard(top=3)

    async def work(twin: AsyncActionabilityService) -> object:
        async with twin.engine.connect() as connection, connection.begin():
            async with twin.session(scopes=scopes, as_of=as_of, connection=connection) as s:
                answer = await s.dashboard(top=3)
            assert connection.in_transaction()
            return answer

    assert on_async(engine, work) == expected


def test_a_sync_url_is_refused_with_the_async_drivers_named() -> None:
    with pytest.raises(ConfigurationError, match="aiosqlite"):
        AsyncActionabilityService("sqlite:///runs.sqlite")


def test_every_workspace_of_an_empty_table_raises_and_frees_the_connection(
    sql_engine: sa.Engine,
) -> None:
    create_schema(sql_engine)

    async def work(twin: AsyncActionabilityService) -> int:
        for _ in range(2):
            with pytest.raises(NoWorkspacesError):
                async with twin.session(scopes=EveryWorkspace(), as_of=AS_OF):
                    pass
        pool = twin.engine.pool
        assert isinstance(pool, sa.pool.QueuePool)
        return pool.checkedout()

    assert on_async(sql_engine, work) == 0


def test_a_resolver_copy_reads_the_same_state_kinds_only(demo: tuple[sa.Engine, datetime]) -> None:
    engine, _ = demo
    backend = open_backend(engine, catalog=CATALOG)
    resolver = Resolver(
        history=backend.history, states=backend.states, registry=REGISTRY, catalog=CATALOG
    )
    with backend.snapshot() as snapshot:
        copy = resolver.with_ports(history=snapshot.history, states=snapshot.states)
        assert copy.history is snapshot.history
        assert resolver.history is backend.history
        fewer = dict(list(snapshot.states.items())[1:])
        with pytest.raises(UsageError, match="state kinds"):
            resolver.with_ports(history=snapshot.history, states=fewer)


def test_the_async_service_from_a_file_answers_as_the_sync_one(
    demo: tuple[sa.Engine, datetime], tmp_path: Path
) -> None:
    engine, as_of = demo
    config_file = tmp_path / "runactionability.toml"
    # The runs table reflected (its subject column named), the cursor key from the environment.
    config_file.write_text(
        'cursor_key_env = "HOST_KEY"\nlocale = "de"\n'
        '[runs]\ntable = "operation_runs"\nsubject = "subject"\ntimestamps = "native"\n'
    )
    config, environ = load_config(config_file), {"HOST_KEY": "k" * 32}
    sync = ActionabilityService.from_config(config, bind=engine, registry=REGISTRY, environ=environ)
    hidden = _hidden_run(sync, as_of)
    scopes = VisibleScopes({"acme"})
    with sync.session(scopes=scopes, as_of=as_of) as s:
        expected = _sync_answers(s, hidden)
        top = s.dashboard(top=1).top[0].result
        expected_text, english = s.render(top.message), top.explanation

    async def work() -> tuple[list[object], str]:
        bind = async_engine_of(engine)
        try:
            twin = await AsyncActionabilityService.from_config(
                config, bind=bind, registry=REGISTRY, environ=environ
            )
            async with twin.session(scopes=scopes, as_of=as_of) as s:
                got = await _async_answers(s, hidden)
                return got, s.render((await s.dashboard(top=1)).top[0].result.message)
        finally:
            await bind.dispose()

    got, text = asyncio.run(work())
    assert got == expected
    assert text == expected_text
    assert text != english  # the file's locale, German, renders both
    page = got[1]
    assert isinstance(page, AssessedPage)
    assert page.next_cursor is not None
    assert "." in page.next_cursor  # signed
    with pytest.raises(ConfigurationError, match="HOST_KEY, which is not set"):
        asyncio.run(AsyncActionabilityService.from_config(config, bind=None, environ={}))


def test_the_async_service_opens_and_closes_the_files_database(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'host.sqlite'}")
    data = generate(Size.SMALL, catalog=CATALOG)
    load(engine, data)
    engine.dispose()
    config_file = tmp_path / "runactionability.toml"
    config_file.write_text('database = "host.sqlite"\n')

    async def work() -> int:
        service = await AsyncActionabilityService.from_config(
            load_config(config_file), registry=REGISTRY
        )
        try:
            assert service.engine.url.drivername == "sqlite+aiosqlite"
            async with service.session(scopes=VisibleScopes({"acme"}), as_of=data.as_of) as s:
                return (await s.dashboard(top=1)).counts.total
        finally:
            await service.close()

    assert asyncio.run(work()) > 0
    with pytest.raises(ConfigurationError, match="no database is named"):
        asyncio.run(AsyncActionabilityService.from_config(Config(), registry=REGISTRY))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///runs.sqlite", "sqlite+aiosqlite:///runs.sqlite"),
        ("postgresql://u@db/runs", "postgresql+psycopg_async://u@db/runs"),
        ("postgresql+psycopg://u:pw@db/runs", "postgresql+psycopg_async://u:pw@db/runs"),
        ("sqlite+aiosqlite:///runs.sqlite", "sqlite+aiosqlite:///runs.sqlite"),
    ],
)
def test_the_async_driver_of_a_url(url: str, expected: str) -> None:
    made = async_database_url(sa.make_url(url))
    assert made.render_as_string(hide_password=False) == expected


def test_a_url_with_no_known_async_driver_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="no async driver known for mysql"):
        async_database_url(sa.make_url("mysql://u@db/runs"))


def test_environments_with_runs_name_only_what_the_scopes_show(
    demo: tuple[sa.Engine, datetime],
) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    asked = ["prod", "staging", "dev", "nosuch", "PROD"]
    acme = VisibleScopes({"acme"})
    prod_only = VisibleScopes({"acme"}, environment_ids=["prod"])
    with service.session(scopes=acme, as_of=as_of) as s:
        # globex's dev is hidden from acme: not found, exactly like a name no run carries.
        expected = s.environments_with_runs(asked)
    with service.session(scopes=prod_only, as_of=as_of) as s:
        narrowed = s.environments_with_runs(asked)
    with service.session(scopes=EveryWorkspace(), as_of=as_of) as s:
        everywhere = s.environments_with_runs(asked)

    async def work(twin: AsyncActionabilityService) -> frozenset[str]:
        async with twin.session(scopes=acme, as_of=as_of) as s:
            return await s.environments_with_runs(asked)

    assert expected == {"prod", "staging"}
    assert narrowed == {"prod"}
    assert everywhere == {"prod", "staging", "dev"}
    assert on_async(engine, work) == expected
