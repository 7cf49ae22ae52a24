"""A queued or running row whose id another visible row shares is never named as the active run.
It read ``duplicate_run_id`` on every page and was no active work, yet it was named as "the
active run" by an id that names two runs. Now the blocking run is the newest active run of the
same work whose id names one visible run; when there is none but such a row, the failure is
offered a review (neither a link to nothing nor a retry beside work that may be under way). On
memory and SQL, sync and async; a row of a hidden scope changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import (
    AS_OF,
    CATALOG,
    REGISTRY,
    AsyncHistory,
    AsyncSource,
    async_engine_of,
    insert_raw,
    keyless_runs,
    memory_ports,
    raw_row,
)

from runactionability import (
    ActionabilityService,
    ActionKind,
    AsyncActionabilityService,
    AsyncResolver,
    OperationRun,
    VisibleScopes,
    assess,
    assess_async,
)
from runactionability.adapters.memory import MemoryRunHistory
from runactionability.consumers import ActiveRuns, Assessment

W1 = VisibleScopes({"w1"})
Answer = tuple[ActionKind | None, Any]
"""Run 1's primary action kind and the active run it names."""

AMBIGUOUS = "ambiguous"
"""The same work runs only under an id two visible runs hold: no run to name, no retry either."""

# Run 1 failed (a sync, retried when nothing of the same work runs). Each case adds rows and
# says which active run, if any, holds back its retry.
CASES: dict[str, tuple[list[dict[str, Any]], Any]] = {
    # Running 5 shares its id with a failed row: which run is "the active run 5"?
    "shared with a failure": ([{"id": 5}, {"id": 5, "active": False}], AMBIGUOUS),
    "two running rows": ([{"id": 5}, {"id": 5, "minutes": 6}], AMBIGUOUS),
    "nothing running": ([{"id": 5, "active": False}], None),
    # An older running run whose id is its own still holds the retry back.
    "an older unambiguous one": ([{"id": 5}, {"id": 5, "active": False}, {"id": 3}], 3),
    # Another workspace's row with id 5 is not read: 5 names one run the actor can see.
    "shared only with a hidden row": ([{"id": 5}, {"id": 5, "workspace_id": "w2"}], 5),
    "alone": ([{"id": 5}], 5),
}


def _expected(blocker: Any) -> Answer:
    if blocker is AMBIGUOUS:
        return (ActionKind.REVIEW, None)
    return (ActionKind.RETRY, None) if blocker is None else (ActionKind.VIEW_ACTIVE_RUN, blocker)


def _rows(engine: sa.Engine | None, added: list[dict[str, Any]]) -> list[dict[str, Any]]:
    engine = engine or sa.create_engine("sqlite://")  # instants as SQLite stores them
    rows = [raw_row(engine, 1)]
    for spec in added:
        fields = {k: v for k, v in spec.items() if k not in ("id", "active", "minutes")}
        row = raw_row(engine, spec.get("minutes", spec["id"]), **fields)
        if spec.get("active", True):
            row |= {"status": "running", "outcome": None, "completed_at": None}
        rows.append({**row, "id": spec["id"]})
    return rows


def _answer(items: Collection[Assessment]) -> Answer:
    (item,) = [i for i in items if str(i.run_id) == "1"]
    kind = None if item.primary_action is None else item.primary_action.kind
    blocker = None if item.active_run_id is None else int(item.active_run_id)
    return kind, blocker


@pytest.mark.parametrize("case", CASES)
def test_the_session_never_names_an_ambiguous_run_as_the_active_one(
    sql_engine: sa.Engine, case: str
) -> None:
    added, blocker = CASES[case]
    keyless_runs(sql_engine)
    insert_raw(sql_engine, _rows(sql_engine, added))
    with ActionabilityService(sql_engine).session(scopes=W1, as_of=AS_OF) as session:
        told = session.explain(1)
        assert told is not None
        sync = [
            _answer(session.page().items),
            _answer(session.follow_up_page().items),
            _answer(session.dashboard(top=50).top),
            _answer([told.assessment]),
        ]

    async def awaited() -> list[Answer]:
        engine = async_engine_of(sql_engine)
        try:
            service = AsyncActionabilityService(engine)
            async with service.session(scopes=W1, as_of=AS_OF) as twin:
                told = await twin.explain(1)
                assert told is not None
                page, summary = await twin.page(), await twin.dashboard(top=50)
                return [_answer(page.items), _answer(summary.top), _answer([told.assessment])]
        finally:
            await engine.dispose()

    answers = sync + asyncio.run(awaited())
    assert answers == [_expected(blocker)] * len(answers)


def _memory_runs(added: list[dict[str, Any]]) -> list[OperationRun]:
    """``_rows``' runs as a host's objects hold them."""
    runs = []
    for row in _rows(None, added):
        micros = {k: row[k] for k in ("created_at", "completed_at") if row[k] is not None}
        instants = {k: datetime.fromtimestamp(v / 1e6, UTC) for k, v in micros.items()}
        runs.append(OperationRun.from_mapping({**row, **instants, "context": {}}))
    return runs


@pytest.mark.parametrize("case", CASES)
def test_memory_consumers_never_name_an_ambiguous_run_as_the_active_one(case: str) -> None:
    added, blocker = CASES[case]
    runs = _memory_runs(added)
    ports = memory_ports(runs, [])
    resolver, source = ports.resolver(), ports.runs
    # The whole batch; run 1 alone with the active runs read from the source; so too awaited.
    whole = assess(resolver, runs, scopes=W1, as_of=AS_OF, source=source)
    read: Callable[[], ActiveRuns] = lambda: ActiveRuns.from_source(  # noqa: E731
        source, catalog=CATALOG, scopes=W1, as_of=AS_OF
    )
    alone = assess(resolver, runs[:1], scopes=W1, as_of=AS_OF, source=source, active=read())

    async def awaited() -> list[Assessment]:
        states = {kind: AsyncSource(state) for kind, state in ports.states.items()}
        history = AsyncHistory(MemoryRunHistory(runs))
        twin = AsyncResolver(
            history=history, states=states, registry=REGISTRY, catalog=CATALOG, strict=True
        )
        return [
            *await assess_async(twin, runs, scopes=W1, as_of=AS_OF, source=source),
            *await assess_async(twin, runs[:1], scopes=W1, as_of=AS_OF, active=read()),
        ]

    batches = [whole, alone, *([item] for item in asyncio.run(awaited()) if item.run_id == 1)]
    assert [_answer(batch) for batch in batches] == [_expected(blocker)] * 4
