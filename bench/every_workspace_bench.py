"""What does a request of an actor who sees every workspace cost, by the number of tenants?

The same ``--runs`` runs (a failure and an earlier success of another type per tenant, and a
few failures each in ``--busy`` tenants) spread over each ``--tenants`` count. Per engine and
tenant count, two legs read one typical request (the dashboard, the current follow-up page,
one run's explanation) on one snapshot, ``--warmup`` requests first, then ``--requests``
measured ones:

- ``listed``: as ``EveryWorkspace`` was read before: the snapshot's distinct workspace ids, then
  every statement bounded by that list (``VisibleScopes(workspace_names(...))``, whole database);
- ``unlisted``: ``EveryWorkspace`` now, every statement testing the row's own workspace id.

It prints the medians side by side: ``wall`` (the request, session opened and closed) and
``cpu`` (this thread's CPU time, ``time.thread_time``, which a busy machine's waiting does not
inflate; on PostgreSQL the server's time is in ``wall`` only), and checks both legs answer alike.

    .venv/bin/python bench/every_workspace_bench.py
    .venv/bin/python bench/every_workspace_bench.py --engines sqlite --tenants 30 3000

PostgreSQL reads ``--postgres-url`` (default: ``RUNACTIONABILITY_TEST_DATABASE_URL``, else the
local test server), in the schema ``every_bench_<tenants>``, dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

from runactionability import ActionabilityService, EveryWorkspace, OperationRun, VisibleScopes
from runactionability.adapters.sqlalchemy import create_schema, insert_runs
from runactionability.model import RunOutcome, RunStatus
from runactionability.service import RequestSession
from runactionability.service.every import workspace_names

T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
AS_OF = T0 + timedelta(hours=1)
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _run(run_id: int, tenant: str, *, success: bool, at: datetime) -> OperationRun:
    return OperationRun(
        id=run_id,
        type="directory.sync" if success else "provider.connection.check",
        workspace_id=tenant,
        environment_id="prod",
        status=RunStatus.COMPLETED,
        outcome=RunOutcome.SUCCEEDED if success else RunOutcome.FAILED,
        created_at=at,
        started_at=at,
        completed_at=at + timedelta(minutes=1),
        context={} if success else {"provider_connection_id": run_id},
    )


def history(tenants: int, runs: int, busy: int) -> list[OperationRun]:
    """``runs`` runs over ``tenants`` tenants: each tenant's failure and earlier success, the
    rest failures of the first ``busy`` tenants."""
    names = [f"t{i:06}" for i in range(tenants)]
    out: list[OperationRun] = []
    for i, name in enumerate(names):
        out.append(_run(2 * i + 1, name, success=False, at=T0 - timedelta(days=2, seconds=i)))
        out.append(_run(2 * i + 2, name, success=True, at=T0 - timedelta(days=3, seconds=i)))
    for n in range(len(out), runs):
        at = T0 - timedelta(minutes=n % 600)
        out.append(_run(n + 1, names[n % busy], success=False, at=at))
    return out


def request(s: RequestSession) -> tuple[Any, ...]:
    summary = s.dashboard(top=10)
    page = s.follow_up_page(limit=50)
    explained = s.explain(page.items[0].run.id) if page.items else None
    shown = attrs.evolve(summary, scopes=None)
    return (shown, [a.run.id for a in page.items], explained is not None)


@contextmanager
def leg(service: ActionabilityService, listed: bool) -> Iterator[RequestSession]:
    with service.session(scopes=EveryWorkspace(), as_of=AS_OF) as session:
        if listed:
            # EveryWorkspace before: the snapshot's workspace ids, then a scope list of them.
            named = VisibleScopes(workspace_names(session.backend))
            session = attrs.evolve(session, scopes=named)
        yield session


def measure(service: ActionabilityService, listed: bool, args: argparse.Namespace) -> Any:
    walls, cpus, answer = [], [], None
    for i in range(args.warmup + args.requests):
        wall, cpu = time.perf_counter(), time.thread_time()
        with leg(service, listed) as session:
            answer = request(session)
        if i >= args.warmup:
            walls.append(time.perf_counter() - wall)
            cpus.append(time.thread_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, answer


def engine_for(name: str, tenants: int, args: argparse.Namespace, folder: Path) -> sa.Engine:
    if name == "sqlite":
        return sa.create_engine(f"sqlite:///{folder / f'every-{tenants}.sqlite'}")
    schema = f"every_bench_{tenants}"
    with sa.create_engine(args.postgres_url).begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    return sa.create_engine(args.postgres_url, connect_args={"options": f"-csearch_path={schema}"})


def drop(name: str, tenants: int, args: argparse.Namespace) -> None:
    if name != "sqlite":
        with sa.create_engine(args.postgres_url).begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "every_bench_{tenants}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--tenants", nargs="+", type=int, default=[30, 30_000])
    parser.add_argument("--runs", type=int, default=60_000)
    parser.add_argument("--busy", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("RUNACTIONABILITY_TEST_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args()
    print(f"{args.runs} runs, {args.requests} measured requests a leg, medians in ms")
    print(f"{'engine':<11}{'tenants':>8}  {'leg':<9}{'wall':>9}{'cpu':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.engines:
            for tenants in args.tenants:
                engine = engine_for(name, tenants, args, Path(folder))
                try:
                    create_schema(engine)
                    insert_runs(engine, history(tenants, args.runs, args.busy))
                    service = ActionabilityService(engine)
                    answers = []
                    for listed in (True, False):
                        wall, cpu, answer = measure(service, listed, args)
                        answers.append(answer)
                        label = "listed" if listed else "unlisted"
                        print(f"{name:<11}{tenants:>8}  {label:<9}{wall:>9.1f}{cpu:>9.1f}")
                    assert answers[0] == answers[1], "the two legs answered differently"
                    service.close()
                    engine.dispose()
                finally:
                    drop(name, tenants, args)


if __name__ == "__main__":
    main()
