"""A dashboard request per pattern: a pushdown built per request against one shared service.

    runactionability demo --database /tmp/v-demo.sqlite
    PYTHONPATH=src .venv/bin/python bench/request_api_bench.py /tmp/v-demo.sqlite

Prints the median of 20 requests after the first, each reading every workspace's dashboard
(top 10) through one snapshot, on one engine.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from runactionability import ActionabilityService, EveryWorkspace, Registry, Resolver
from runactionability.adapters.sqlalchemy import open_backend
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.consumers import VisibleScopes, dashboard
from runactionability.demo import read_marker

REQUESTS = 20


def per_request(engine: sa.Engine, scopes: VisibleScopes, as_of: datetime) -> Callable[[], None]:
    registry = Registry.default()
    catalog = registry.catalog()

    def request() -> None:
        # What a host copied from the CLI before the service: everything built per request.
        with open_backend(engine, catalog=catalog).snapshot() as backend:
            resolver = Resolver(
                history=backend.history, states=backend.states, registry=registry, catalog=catalog
            )
            pushdown = SqlPushdown(
                backend.history.bind,
                runs=backend.runs.mapping,
                states={kind: source.mapping for kind, source in backend.states.items()},
                registry=registry,
                catalog=catalog,
            )
            dashboard(backend.runs, resolver, scopes=scopes, as_of=as_of, store=pushdown)

    return request


def via_service(engine: sa.Engine, scopes: VisibleScopes, as_of: datetime) -> Callable[[], None]:
    service = ActionabilityService(engine)

    def request() -> None:
        with service.session(scopes=scopes, as_of=as_of) as s:
            s.dashboard()

    return request


def median_ms(request: Callable[[], None]) -> float:
    request()  # the first request compiles
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        request()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(path: str) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    marker = read_marker(engine)
    as_of = marker.as_of if marker is not None else datetime.now(UTC)
    with ActionabilityService(engine).session(scopes=EveryWorkspace(), as_of=as_of) as s:
        scopes = s.scopes
    for name, build in (("per-request pushdown", per_request), ("service", via_service)):
        print(f"{name:>22}: {median_ms(build(engine, scopes, as_of)):7.1f} ms median")
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1])
