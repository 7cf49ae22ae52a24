"""OpenTelemetry spans and counters, recorded only when the host asked for them.

The ``otel`` extra installs ``opentelemetry-api``; the host installs an SDK and sets a tracer (and
meter) provider. This module looks for ``opentelemetry`` once, on the first traced call, and
otherwise does nothing: without the package, or with the API's default no-op providers, a traced
call costs one check (``docs/telemetry.md`` measures it) and imports nothing.

A span also sums what happens inside it: the SQL statements sent (counted by a SQLAlchemy listener
installed on the first recording span) with the time the driver spent executing them, and the
time the core spent planning and deciding. An inner span (a resolver batch inside a page) adds its
sums to the span around it, so each span tells the whole cost of its call; an inner call of the
same name (the consumer's dashboard inside the session's) joins the span around it. What the
library's observers do runs ``not_counted``: a host's plugin's statements are not the library's.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from time import perf_counter
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from runactionability.result import ActionabilityResult

P = ParamSpec("P")
R = TypeVar("R")

SCOPE = "runactionability"
"""The instrumentation scope of every span and counter (with the installed version)."""

EVALUATE = "runactionability.evaluate"
COUNT = "runactionability.count"
DASHBOARD = "runactionability.dashboard"
PAGE = "runactionability.page"
FOLLOW_UP_PAGE = "runactionability.follow_up_page"
CHANGES = "runactionability.changes"
RESULTS = "runactionability.results"
"""The counter of results by ``runactionability.status`` and ``runactionability.family``."""


class Recording:
    """What one span sums while it runs; the span's attributes are written from it at the end."""

    __slots__ = (
        "_sent",
        "core_seconds",
        "db_seconds",
        "name",
        "runs",
        "span",
        "statements",
        "system",
    )

    def __init__(self, span: Any, name: str) -> None:
        self.span = span
        self.name = name
        self.runs: int | None = None
        self.statements = 0
        self.db_seconds = 0.0
        self.core_seconds = 0.0
        self.system: str | None = None
        self._sent = 0.0

    def clock(self) -> float:
        return perf_counter()

    def core_since(self, started: float) -> None:
        self.core_seconds += perf_counter() - started

    def set(self, name: str, value: int | str) -> None:
        self.span.set_attribute(name, value)

    def _close(self, function: str) -> None:
        span = self.span
        span.set_attribute("code.function.name", function)
        if self.runs is not None:
            span.set_attribute("runactionability.runs.count", self.runs)
        span.set_attribute("runactionability.db.statements", self.statements)
        span.set_attribute("runactionability.db.duration", self.db_seconds)
        span.set_attribute("runactionability.core.duration", self.core_seconds)
        if self.system is not None:
            span.set_attribute("db.system.name", self.system)


class _Off:
    """The recording of a span nobody records: every method does nothing."""

    __slots__ = ()

    def clock(self) -> float:
        return 0.0

    def core_since(self, started: float) -> None:
        return None

    def set(self, name: str, value: int | str) -> None:
        return None


OFF = _Off()

Recorder = Recording | _Off
"""What ``span`` yields: a ``Recording``, or ``OFF`` when nobody records the span."""


class _NotRecorded:
    """The context of a span nobody records: one shared object, so that it costs no allocation."""

    __slots__ = ()

    def __enter__(self) -> _Off:
        return OFF

    def __exit__(self, *_: object) -> None:
        return None


_NOT_RECORDED = _NotRecorded()


class _State:
    """What the first traced call found (whether ``opentelemetry`` is there), and the tracer and
    counter of the providers the host set, kept until it sets others."""

    def __init__(self) -> None:
        self.looked = False
        self.available = False
        self.listening = False
        self.version = "0+unknown"
        self.tracer_provider: Any = None
        self.meter_provider: Any = None
        self.unset_tracers: tuple[type, ...] = ()
        self.unset_meters: tuple[type, ...] = ()
        self.tracer: Any = None
        self.counter: Any = None

    def look(self) -> None:
        self.looked = True
        if importlib.util.find_spec("opentelemetry") is None:
            return
        from importlib.metadata import version

        try:
            from opentelemetry import metrics, trace
        except ImportError:
            # ``opentelemetry`` is a namespace package: another distribution (opentelemetry-proto,
            # say) may provide it without the API, which is then as absent as the package.
            return

        try:
            self.version = version("runactionability")
        except Exception:
            self.version = "0+unknown"
        self.tracer_provider = _fast(
            trace, "_TRACER_PROVIDER", trace.get_tracer_provider, "OTEL_PYTHON_TRACER_PROVIDER"
        )
        self.meter_provider = _fast(
            metrics._internal,
            "_METER_PROVIDER",
            metrics.get_meter_provider,
            "OTEL_PYTHON_METER_PROVIDER",
        )
        # The providers the API hands out until the host sets one record nothing, so a call
        # under them is not measured at all. The API names no class for its proxy meter
        # provider; the one it hands out now is that proxy, as no provider was set before a
        # library looked.
        self.unset_tracers = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
        proxy = getattr(metrics._internal, "_PROXY_METER_PROVIDER", None)
        self.unset_meters = (metrics.NoOpMeterProvider, *([type(proxy)] if proxy else []))
        self.available = True

    def traced(self) -> Any:
        """The tracer of the host's tracer provider, or None when none records."""
        if not self.looked:
            self.look()
        if not self.available:
            return None
        provider = self.tracer_provider()
        if self.tracer is None or self.tracer[0] is not provider:
            # Once per provider: the isinstance test of an API class costs more than a batch of
            # one run pays for everything else here.
            unset = isinstance(provider, self.unset_tracers)
            self.tracer = (provider, None if unset else provider.get_tracer(SCOPE, self.version))
        return self.tracer[1]

    def metered(self) -> Any:
        """The results counter of the host's meter provider, or None when none records."""
        if not self.looked:
            self.look()
        if not self.available:
            return None
        provider = self.meter_provider()
        if self.counter is None or self.counter[0] is not provider:
            counter = None
            if not isinstance(provider, self.unset_meters):
                counter = provider.get_meter(SCOPE, self.version).create_counter(
                    RESULTS, unit="{result}", description="Actionability results derived"
                )
            self.counter = (provider, counter)
        return self.counter[1]


def _fast(module: Any, name: str, getter: Callable[[], Any], variable: str) -> Callable[[], Any]:
    """``getter``, or a cheaper read of the provider it returns.

    The API's getter tests ``os.environ`` on every call while no provider is set (about 0.6 us,
    more than the rest of a no-op span). Unless that variable names a provider to load, the
    provider the host set is the module's global, and the getter's answer while it is None is
    the proxy, which records nothing either way.
    """
    if variable in os.environ or not hasattr(module, name):
        return getter
    unset = getter()
    return lambda: getattr(module, name) or unset


_state = _State()
_current: ContextVar[Recording | None] = ContextVar("runactionability_span", default=None)


def span(name: str, function: str) -> AbstractContextManager[Recorder]:
    """A span named ``name`` around the block, for ``function`` (``code.function.name``).

    Yields ``OFF`` unless a tracer provider records it. Inside a recording span of the same name
    (a session's dashboard around the consumer's), the block joins that span instead of nesting.
    """
    tracer = _state.traced()
    if tracer is None:
        return _NOT_RECORDED
    return _recorded(tracer, name, function)


class _Joined:
    """The context of a call inside a span of its own name: it adds to that span."""

    __slots__ = ("recording",)

    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    def __enter__(self) -> Recording:
        return self.recording

    def __exit__(self, *_: object) -> None:
        return None


def not_counted() -> AbstractContextManager[object]:
    """Nothing in the block is summed into the current span: the library's observers run here,
    so the statements of a host's plugin (on any engine) are not told as the library's."""
    if _current.get() is None:
        return _NOT_RECORDED  # no span sums anything: nothing to set aside, and no allocation
    return _set_aside()


@contextmanager
def _set_aside() -> Iterator[None]:
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def traced(
    name: str, function: str, *, runs: Callable[[Any], int] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a call with ``span(name, function)``; ``runs`` tells its number of runs from
    what it returned (``runactionability.runs.count``)."""

    def decorate(call: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(call):
            return _traced_coroutine(call, name, function, runs)  # type: ignore[return-value]

        @functools.wraps(call)
        def traced_call(*args: P.args, **kwargs: P.kwargs) -> R:
            tracer = _state.traced()
            if tracer is None:
                return call(*args, **kwargs)
            with _recorded(tracer, name, function) as recording:
                answer = call(*args, **kwargs)
                if runs is not None and isinstance(recording, Recording):
                    recording.runs = runs(answer)
                return answer

        return traced_call

    return decorate


def _traced_coroutine(
    call: Callable[P, Awaitable[R]], name: str, function: str, runs: Callable[[Any], int] | None
) -> Callable[P, Awaitable[R]]:
    """``traced`` for a coroutine function: the span covers every await of the call."""

    @functools.wraps(call)
    async def traced_call(*args: P.args, **kwargs: P.kwargs) -> R:
        tracer = _state.traced()
        if tracer is None:
            return await call(*args, **kwargs)
        with _recorded(tracer, name, function) as recording:
            answer = await call(*args, **kwargs)
            if runs is not None and isinstance(recording, Recording):
                recording.runs = runs(answer)
            return answer

    return traced_call


def _recorded(tracer: Any, name: str, function: str) -> AbstractContextManager[Recording | _Off]:
    outer = _current.get()
    if outer is not None and outer.name == name:
        return _Joined(outer)
    return _new_span(tracer, name, function)


@contextmanager
def _new_span(tracer: Any, name: str, function: str) -> Iterator[Recording | _Off]:
    _listen()
    with tracer.start_as_current_span(name) as otel_span:
        if not otel_span.is_recording():
            yield OFF
            return
        recording = Recording(otel_span, name)
        outer = _current.get()
        token = _current.set(recording)
        try:
            yield recording
        finally:
            _current.reset(token)
            recording._close(function)
            if outer is not None:
                outer.statements += recording.statements
                outer.db_seconds += recording.db_seconds
                outer.core_seconds += recording.core_seconds
                outer.system = outer.system or recording.system


def count_results(results: Iterable[ActionabilityResult]) -> None:
    """Add ``results`` to the results counter, by status and family (when a meter records)."""
    counter = _state.metered()
    if counter is None:
        return
    tally = Counter((result.status.value, result.family) for result in results)
    for (status, family), number in tally.items():
        attributes = {"runactionability.status": status}
        if family is not None:
            attributes["runactionability.family"] = family
        counter.add(number, attributes)


def _listen() -> None:
    # On the Engine class, so that every engine (a host's own, an asyncio engine's sync twin) is
    # counted; outside a recording span the listener finds no recording and returns at once.
    if _state.listening:
        return
    import sqlalchemy as sa

    sa.event.listen(sa.Engine, "before_cursor_execute", _before_statement)
    sa.event.listen(sa.Engine, "after_cursor_execute", _after_statement)
    _state.listening = True


def _before_statement(*_: Any) -> None:
    recording = _current.get()
    if recording is not None:
        recording._sent = perf_counter()


def _after_statement(connection: Any, *_: Any) -> None:
    recording = _current.get()
    if recording is not None:
        recording.db_seconds += perf_counter() - recording._sent
        recording.statements += 1
        recording.system = recording.system or connection.dialect.name
