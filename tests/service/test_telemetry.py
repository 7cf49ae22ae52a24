"""Issue 14, part 5: OpenTelemetry spans and counters, read back through the SDK's in-memory
exporter and reader; and nothing recorded, or imported, when the host did not ask for it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once
from tests.support import AS_OF, async_engine_of, resolver, run

from runactionability import (
    ActionabilityResult,
    ActionabilityService,
    AsyncActionabilityService,
    AsyncResolver,
    AsyncStateSource,
    Change,
    Registry,
    VisibleScopes,
    __version__,
    hookimpl,
)
from runactionability.adapters.sqlalchemy import (
    AsyncSqlRunHistory,
    AsyncSqlStateSource,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.testing import count_statements

REGISTRY = Registry.default()
CATALOG = REGISTRY.catalog()
SCOPES = VisibleScopes({"acme", "globex"})


class Telemetry:
    """What the host's SDK received: finished spans, and the results counter's points."""

    def __init__(self, exporter: InMemorySpanExporter, reader: InMemoryMetricReader) -> None:
        self.exporter = exporter
        self.reader = reader

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if name in (None, s.name)]

    def one(self, name: str) -> ReadableSpan:
        (found,) = self.spans(name)
        return found

    def results(self) -> dict[tuple[str, str | None], int]:
        data = self.reader.get_metrics_data()
        counted: dict[tuple[str, str | None], int] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                assert scope.scope.name == "runactionability"
                for metric in scope.metrics:
                    assert metric.name == "runactionability.results"
                    for point in metric.data.data_points:
                        attributes: Any = point.attributes
                        key = (
                            attributes["runactionability.status"],
                            attributes.get("runactionability.family"),
                        )
                        assert isinstance(point, NumberDataPoint)
                        counted[key] = counted.get(key, 0) + int(point.value)
        return counted


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    """The host's SDK providers, set for one test and unset after it.

    The API lets a process set its providers once; the reset below is what OpenTelemetry's own
    test utilities do, so each test starts from providers nobody has set.
    """
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    try:
        yield Telemetry(exporter, reader)
    finally:
        tracer_provider.shutdown()
        meter_provider.shutdown()
        trace._TRACER_PROVIDER_SET_ONCE = Once()
        trace._TRACER_PROVIDER = None
        metrics._internal._METER_PROVIDER_SET_ONCE = Once()
        metrics._internal._METER_PROVIDER = None


def test_a_batch_is_one_span_with_its_runs_and_counted_results(otel: Telemetry) -> None:
    later = run(2, outcome="succeeded", created_at=AS_OF.replace(day=AS_OF.day - 1))
    runs = [run(1), later, run(3, context={})]
    results = resolver([*runs]).evaluate_many(runs, as_of=AS_OF)
    span = otel.one("runactionability.evaluate")
    attributes = dict(span.attributes or {})
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "runactionability"
    assert span.instrumentation_scope.version == __version__
    assert attributes["code.function.name"] == "runactionability.Resolver.evaluate_many"
    assert attributes["runactionability.runs.count"] == 3
    # Memory ports send no statement, and no database is named.
    assert attributes["runactionability.db.statements"] == 0
    assert "db.system.name" not in attributes
    assert isinstance(attributes["runactionability.core.duration"], float)
    assert attributes["runactionability.core.duration"] > 0
    assert [r.status.value for r in results] == [
        "superseded_by_later_success",
        "informational_only",
        "requires_manual_review",
    ]
    assert otel.results() == {
        ("superseded_by_later_success", "provider_connection"): 1,
        ("informational_only", "provider_connection"): 1,
        ("requires_manual_review", "provider_connection"): 1,
    }


def test_a_request_names_every_span_and_its_statements(
    otel: Telemetry, demo: tuple[sa.Engine, datetime]
) -> None:
    engine, as_of = demo
    system = engine.dialect.name
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    before = otel.results()
    # The session's first call: its span includes the read of the session's active work.
    with (
        service.session(scopes=SCOPES, as_of=as_of) as session,
        count_statements(engine) as counted,
    ):
        board = session.dashboard(top=3)
    with service.session(scopes=SCOPES, as_of=as_of) as session:
        with count_statements(engine) as counted_page:
            follow = session.follow_up_page(limit=2)
        session.history_page(limit=2)
    dashboard = otel.one("runactionability.dashboard")
    count = otel.one("runactionability.count")
    shown = dict(dashboard.attributes or {})
    assert shown["code.function.name"] == "runactionability.RequestSession.dashboard"
    assert shown["runactionability.runs.count"] == board.counts.total
    assert shown["runactionability.db.statements"] == counted.count
    assert shown["db.system.name"] == system
    assert isinstance(shown["runactionability.db.duration"], float)
    # The count is inside the dashboard: its span is a child, and its statements are included.
    assert count.parent is not None
    assert dashboard.context is not None
    assert count.parent.span_id == dashboard.context.span_id
    counted_attributes = dict(count.attributes or {})
    assert counted_attributes["code.function.name"] == "runactionability.SqlPushdown.count"
    assert 0 < counted_attributes["runactionability.db.statements"] <= counted.count  # type: ignore[operator]
    pages = {
        dict(s.attributes or {})["runactionability.view"]: s
        for s in otel.spans("runactionability.page")
    }
    assert set(pages) == {"current_follow_up", "history"}
    follow_span = dict(pages["current_follow_up"].attributes or {})
    assert follow_span["code.function.name"] == "runactionability.RequestSession.page"
    assert follow_span["runactionability.runs.count"] == len(follow.items) == 2
    assert follow_span["runactionability.db.statements"] == counted_page.count
    # The store's list picks the runs of the follow-up page (and the dashboard's top runs).
    page_context = pages["current_follow_up"].context
    assert page_context is not None
    parents = [s.parent.span_id for s in otel.spans("runactionability.follow_up_page") if s.parent]
    assert page_context.span_id in parents
    assert dashboard.context.span_id in parents
    # Each page explains its runs in one resolver batch, a child span with its own runs.
    batches = otel.spans("runactionability.evaluate")
    assert batches
    # A span names its database when it sent a statement (a batch that needed no evidence
    # sent none, and names none).
    for each in otel.spans():
        attributes = dict(each.attributes or {})
        sent = attributes["runactionability.db.statements"]
        assert attributes.get("db.system.name") == (system if sent else None), each.name
    # The counter counts every result of those batches, by status and family.
    evaluated = [dict(s.attributes or {})["runactionability.runs.count"] for s in batches]
    assert sum(otel.results().values()) - sum(before.values()) == sum(evaluated)  # type: ignore[arg-type]


def test_the_needs_attention_figure_is_a_count_span_of_its_own(
    otel: Telemetry, demo: tuple[sa.Engine, datetime]
) -> None:
    engine, as_of = demo
    pushdown = SqlPushdown(engine)
    scopes = VisibleScopes(["acme"])
    with count_statements(engine) as counted:
        needing = pushdown.needs_attention(scopes, as_of=as_of)
    assert needing == pushdown.count(scopes, as_of=as_of).needs_attention > 0
    first = otel.spans("runactionability.count")[0]
    attributes = dict(first.attributes or {})
    assert attributes["code.function.name"] == "runactionability.SqlPushdown.needs_attention"
    assert attributes["runactionability.db.statements"] == counted.count
    assert "runactionability.runs.count" not in attributes


def test_a_page_of_changes_is_one_span_around_its_two_batches(
    otel: Telemetry, demo: tuple[sa.Engine, datetime]
) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    with count_statements(engine) as counted, service.session(scopes=SCOPES, as_of=as_of) as s:
        page = s.changes(since=as_of - timedelta(days=2), limit=5)
    assert page.changes
    changes = otel.one("runactionability.changes")
    attributes = dict(changes.attributes or {})
    assert attributes["code.function.name"] == "runactionability.RequestSession.changes"
    assert attributes["runactionability.runs.count"] == len(page.changes)
    assert 0 < attributes["runactionability.db.statements"] <= counted.count  # type: ignore[operator]
    assert attributes["db.system.name"] == engine.dialect.name
    # The statuses at since and at until: two resolver batches inside it.
    inside = [s for s in otel.spans("runactionability.evaluate") if s.parent]
    assert changes.context is not None
    assert len([s for s in inside if s.parent.span_id == changes.context.span_id]) == 2  # type: ignore[union-attr]


def test_a_poll_of_the_feed_is_one_span(otel: Telemetry, demo: tuple[sa.Engine, datetime]) -> None:
    engine, as_of = demo
    service = ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG)
    page = service.poll_changes(SCOPES, since=as_of - timedelta(days=2), now=as_of, limit=5)
    attributes = dict(otel.one("runactionability.changes").attributes or {})
    assert attributes["code.function.name"] == (
        "runactionability.ActionabilityService.poll_changes"
    )
    assert attributes["runactionability.runs.count"] == len(page.changes) > 0
    assert attributes["runactionability.db.statements"] > 0  # type: ignore[operator]


class _Auditor:
    """A host's observer that writes what it is told to a database of its own."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def _write(self, times: int) -> None:
        with self.engine.connect() as connection:
            for _ in range(times):
                connection.execute(sa.text("select 1"))

    @hookimpl
    def runactionability_actionability_changed(self, change: Change) -> None:
        self._write(50)

    @hookimpl
    def runactionability_results_evaluated(
        self, results: Sequence[ActionabilityResult], as_of: datetime
    ) -> None:
        self._write(10)


def test_the_statements_of_observers_are_not_counted_as_the_librarys(
    otel: Telemetry, demo: tuple[sa.Engine, datetime], tmp_path: Path
) -> None:
    engine, as_of = demo
    audit = sa.create_engine(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    registry = Registry.default(entry_points=False)
    registry.register(_Auditor(audit))
    service = ActionabilityService(engine, registry=registry, catalog=CATALOG)
    with count_statements(engine) as counted:
        page = service.poll_changes(SCOPES, since=as_of - timedelta(days=2), now=as_of, limit=5)
    audit.dispose()
    assert page.changes
    attributes = dict(otel.one("runactionability.changes").attributes or {})
    assert attributes["runactionability.db.statements"] == counted.count
    for batch in otel.spans("runactionability.evaluate"):
        sent = dict(batch.attributes or {})["runactionability.db.statements"]
        assert isinstance(sent, int)
        assert sent < 10, "the batch's own statements, not its observer's ten"


def test_an_async_poll_of_the_feed_is_one_span(
    otel: Telemetry, demo: tuple[sa.Engine, datetime]
) -> None:
    engine, as_of = demo

    async def poll() -> int:
        bind = async_engine_of(engine)
        service = AsyncActionabilityService(bind, registry=REGISTRY, catalog=CATALOG)
        try:
            since = as_of - timedelta(days=2)
            page = await service.poll_changes(SCOPES, since=since, now=as_of, limit=5)
            return len(page.changes)
        finally:
            await service.close()
            await bind.dispose()

    polled = asyncio.run(poll())
    attributes = dict(otel.one("runactionability.changes").attributes or {})
    assert attributes["code.function.name"] == (
        "runactionability.AsyncActionabilityService.poll_changes"
    )
    assert attributes["runactionability.runs.count"] == polled > 0
    assert attributes["runactionability.db.statements"] > 0  # type: ignore[operator]


def test_the_async_resolver_counts_its_statements_through_the_async_driver(
    otel: Telemetry, demo: tuple[sa.Engine, datetime]
) -> None:
    engine, as_of = demo
    runs = [run(1, workspace_id="acme", environment_id="prod"), run(2, context={})]

    async def evaluate() -> None:
        bind = async_engine_of(engine)
        states: dict[str, AsyncStateSource] = {
            kind: AsyncSqlStateSource(bind, mapping)
            for kind, mapping in reference_state_mappings().items()
        }
        try:
            # The history's first call reads its table's context type once (PostgreSQL): a
            # cost of the engine, not of each batch.
            await AsyncSqlRunHistory(bind).latest_successes([], as_of=as_of)
            await AsyncResolver(
                history=AsyncSqlRunHistory(bind), states=states, registry=REGISTRY, catalog=CATALOG
            ).evaluate_many(runs, as_of=as_of)
        finally:
            await bind.dispose()

    asyncio.run(evaluate())
    attributes = dict(otel.one("runactionability.evaluate").attributes or {})
    assert attributes["code.function.name"] == "runactionability.AsyncResolver.evaluate_many"
    assert attributes["runactionability.runs.count"] == 2
    # The later-success lookup and the provider check's connection state, read in one statement
    # (the history's joint read of the state kinds over its bind).
    assert attributes["runactionability.db.statements"] == 1
    assert attributes["db.system.name"] == engine.dialect.name


def test_an_async_request_nests_its_spans_under_the_hosts(
    otel: Telemetry, demo: tuple[sa.Engine, datetime]
) -> None:
    engine, as_of = demo

    async def request() -> None:
        bind = async_engine_of(engine)
        service = AsyncActionabilityService(bind, registry=REGISTRY, catalog=CATALOG)
        try:
            with trace.get_tracer("host").start_as_current_span("GET /"):
                async with service.session(scopes=SCOPES, as_of=as_of) as session:
                    await session.dashboard(top=3)
        finally:
            await service.close()
            await bind.dispose()

    asyncio.run(request())
    host = otel.one("GET /")
    dashboard = otel.one("runactionability.dashboard")
    assert host.context is not None
    assert dashboard.parent is not None
    assert dashboard.parent.span_id == host.context.span_id
    attributes = dict(dashboard.attributes or {})
    assert attributes["runactionability.db.statements"] > 0  # type: ignore[operator]
    assert attributes["db.system.name"] == engine.dialect.name


def _python(*pieces: str) -> str:
    """What a fresh interpreter prints running ``pieces`` (each dedented) one after another."""
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(textwrap.dedent(piece) for piece in pieces)],
        capture_output=True,
        text=True,
        check=False,
        env={"RUNACTIONABILITY_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


_REQUEST = """
    import tempfile, pathlib
    import sqlalchemy as sa
    from runactionability import ActionabilityService, Registry, VisibleScopes
    from runactionability.demo import Size, generate, load, read_marker

    registry = Registry.default(entry_points=False)
    engine = sa.create_engine(f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'runs.sqlite'}")
    load(engine, generate(Size.SMALL, catalog=registry.catalog()))
    service = ActionabilityService(engine, registry=registry)
    with service.session(scopes=VisibleScopes({"acme"}), as_of=read_marker(engine).as_of) as s:
        needs = s.dashboard().needs_attention
        s.follow_up_page(limit=2)
"""


def test_without_opentelemetry_nothing_is_imported_and_nothing_breaks() -> None:
    out = _python(
        """
        import sys
        sys.modules["opentelemetry"] = None  # as if the extra were not installed
        """,
        _REQUEST,
        """
        from runactionability import telemetry
        imported = [m for m, v in sys.modules.items() if m.startswith("opentelemetry") and v]
        print(needs > 0, imported, telemetry._state.available)
        """,
    )
    assert out == "True [] False"


def test_a_namespace_opentelemetry_without_the_api_counts_as_absent(tmp_path: Path) -> None:
    # opentelemetry-proto, for one, ships opentelemetry/proto/ with no opentelemetry/__init__.py
    # and without the API: the namespace package is found, its trace and metrics modules are not.
    (tmp_path / "opentelemetry" / "proto").mkdir(parents=True)
    (tmp_path / "opentelemetry" / "proto" / "__init__.py").write_text("")
    out = _python(
        f"""
        import importlib.abc, sys
        sys.path.insert(0, {str(tmp_path)!r})

        class OnlyTheProtoPackage(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.startswith("opentelemetry.") and name != "opentelemetry.proto":
                    raise ModuleNotFoundError(name)
                return None

        sys.meta_path.insert(0, OnlyTheProtoPackage())
        import opentelemetry.proto
        """,
        _REQUEST,
        """
        from runactionability import telemetry
        with service.session(scopes=VisibleScopes({"acme"}), as_of=read_marker(engine).as_of) as s:
            again = s.dashboard().needs_attention
        print(needs > 0, again == needs, telemetry._state.available)
        """,
    )
    assert out == "True True False"


def test_with_no_provider_set_nothing_is_recorded_nor_listened_to() -> None:
    # The API's default providers record nothing: no span is started and no statement listener
    # is installed on the host's engines.
    out = _python(
        _REQUEST,
        """
        from runactionability import telemetry
        listening = sa.event.contains(sa.Engine, "after_cursor_execute", telemetry._after_statement)
        state = telemetry._state
        print(needs > 0, state.available, state.traced(), state.metered(), listening)
        """,
    )
    assert out == "True True None None False"
