"""The request API over every zoo host, sync and async: each screen a host serves (dashboard,
follow-up and history pages, active work, one run's explanation and primary action) equals, in its
JSON form, what the consumers compute over the memory adapter for the same history."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, async_engine_of, at, form_validator
from tests.zoo.canon import Seeded, assert_same_listing, canonical_history, seed
from tests.zoo.hosts import FITS, fit_id

from runactionability import (
    ActionabilityService,
    AsyncActionabilityService,
    AsyncRequestSession,
    RequestSession,
    Resolver,
    RunStatus,
)
from runactionability.consumers import (
    ActiveRuns,
    AssessedPage,
    View,
    assess,
    dashboard,
    explain,
    list_assessed,
    read_runs,
    summarize,
)
from runactionability.jsonforms import to_json
from runactionability.model import usable_id

Screens = dict[str, Any]


def _checked(form: str, answer: object) -> Any:
    """``answer``'s JSON form, validated against the shipped schema's ``form``: what a host
    serves is what the schema promises, over every zoo host, sync and async alike."""
    document = to_json(answer)
    form_validator(form).validate(document)
    return document


def _action(answer: object) -> object:
    if answer is not None:
        _checked("action", answer)
    return answer


@pytest.fixture(scope="module", params=FITS, ids=fit_id)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """A zoo host holding the canonical history, shared by the module's (read-only) tests."""
    host, dialect = request.param
    if dialect == "sqlite":
        folder = tmp_path_factory.mktemp(host.name)
        engine = sa.create_engine(f"sqlite:///{Path(folder) / f'{host.name}.sqlite'}")
    else:
        engine = request.getfixturevalue("postgres_engine")
    runs, facts = canonical_history()
    yield seed(host, engine, runs, facts)
    if dialect == "postgresql":
        with engine.begin() as connection:
            host.drop(connection)
    engine.dispose()


def _service(seeded: Seeded) -> ActionabilityService:
    return ActionabilityService(
        seeded.engine,
        runs=seeded.mapped.runs,
        states=seeded.mapped.states,
        registry=REGISTRY,
        catalog=CATALOG,
    )


def _sync_screens(seeded: Seeded, as_of: datetime, *, explained: bool) -> Screens:
    service = _service(seeded)
    with service.session(scopes=seeded.scopes(), as_of=as_of) as s:
        return _collect(s, seeded, explained=explained)


def _collect(s: RequestSession, seeded: Seeded, *, explained: bool) -> Screens:
    screens: Screens = {
        "board": _checked("summary", s.dashboard(top=50)),
        "active": _checked("active_work", s.active_work()),
    }
    for name, read in (("follow_up", s.follow_up_page), ("history", s.history_page)):
        runs, cursor = [], None
        while True:
            page = read(limit=3, cursor=cursor)
            runs += _checked("page", page)["runs"]
            if (cursor := page.next_cursor) is None:
                break
        screens[name] = runs
    if explained:
        told = [s.explain(run.id) for run in seeded.runs]
        screens["explained"] = [
            None if one is None else _checked("explanation", one) for one in told
        ]
        screens["actions"] = [_action(s.primary_action(run.id)) for run in seeded.runs]
    return screens


def _async_screens(seeded: Seeded, as_of: datetime, *, explained: bool) -> Screens:
    async def run() -> Screens:
        engine = async_engine_of(seeded.engine)
        try:
            service = AsyncActionabilityService(
                engine,
                runs=seeded.mapped.runs,
                states=seeded.mapped.states,
                registry=REGISTRY,
                catalog=CATALOG,
            )
            async with service.session(scopes=seeded.scopes(), as_of=as_of) as s:
                return await _async_collect(s, seeded, explained=explained)
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def _async_collect(s: AsyncRequestSession, seeded: Seeded, *, explained: bool) -> Screens:
    screens: Screens = {"board": _checked("summary", await s.dashboard(top=50))}
    screens["active"] = _checked("active_work", await s.active_work())
    reads: dict[str, Callable[..., Awaitable[AssessedPage]]]
    reads = {"follow_up": s.follow_up_page, "history": s.history_page}
    for name, read in reads.items():
        runs, cursor = [], None
        while True:
            page = await read(limit=3, cursor=cursor)
            runs += _checked("page", page)["runs"]
            if (cursor := page.next_cursor) is None:
                break
        screens[name] = runs
    if explained:
        told = [await s.explain(run.id) for run in seeded.runs]
        screens["explained"] = [
            None if one is None else _checked("explanation", one) for one in told
        ]
        screens["actions"] = [_action(await s.primary_action(run.id)) for run in seeded.runs]
    return screens


SERVED = {"sync": _sync_screens, "async": _async_screens}


def _memory_screens(seeded: Seeded, as_of: datetime, *, explained: bool) -> Screens:
    """The same screens, computed by the consumers over the memory adapter."""
    scopes = seeded.scopes()
    memory = seeded.memory()
    resolver = Resolver(
        history=memory.history, states=memory.states, registry=REGISTRY, catalog=CATALOG
    )
    active_runs = read_runs(
        memory.runs, scopes.query(statuses={RunStatus.QUEUED, RunStatus.RUNNING}, as_of=as_of)
    )
    active = ActiveRuns(active_runs, catalog=CATALOG, scopes=scopes)
    items = assess(resolver, active_runs, scopes=scopes, as_of=as_of, active=active)
    screens: Screens = {
        "board": to_json(dashboard(memory.runs, resolver, scopes=scopes, as_of=as_of, top=50)),
        "active": to_json(summarize(items, scopes=scopes, as_of=as_of, top=10).active),
    }
    for name, view in (("follow_up", View.CURRENT_FOLLOW_UP), ("history", View.HISTORY)):
        runs, cursor = [], None
        while True:
            page = list_assessed(
                memory.runs,
                resolver,
                scopes=scopes,
                as_of=as_of,
                view=view,
                limit=3,
                cursor=cursor,
            )
            runs += to_json(page)["runs"]
            if (cursor := page.next_cursor) is None:
                break
        screens[name] = runs
    if explained:
        told = [
            explain(
                resolver, run, scopes=scopes, as_of=as_of, active=active, state_kinds=memory.states
            )
            if scopes.admits_run(run)
            else None
            for run in seeded.runs
        ]
        screens["explained"] = [None if one is None else to_json(one) for one in told]
        screens["actions"] = [
            None if one is None else one.assessment.primary_action for one in told
        ]
    return screens


@pytest.mark.parametrize("mode", SERVED)
@pytest.mark.parametrize("as_of", [at(35), AS_OF], ids=lambda value: value.isoformat())
def test_every_screen_equals_memory(seeded: Seeded, as_of: datetime, mode: str) -> None:
    explained = as_of == AS_OF
    served = SERVED[mode](seeded, as_of, explained=explained)
    expected = _memory_screens(seeded, as_of, explained=explained)
    assert_same_listing(seeded.runs, served["board"].pop("top"), expected["board"].pop("top"))
    assert served["board"] == expected["board"]
    for name in ("follow_up", "history"):
        assert_same_listing(seeded.runs, served[name], expected[name])
    assert served["active"] == expected["active"]
    work = expected["active"]["queued"] + expected["active"]["running"]
    assert work or as_of < at(90), "the canonical history holds active work"
    if explained:
        assert served["explained"] == expected["explained"]
        assert served["actions"] == expected["actions"]
        assert sum(one is not None for one in expected["explained"]) > len(seeded.runs) // 2


def test_a_backup_set_resolves_its_own_schedules_failure_only(seeded: Seeded) -> None:
    """Runs 22 and 23 of the canonical history: a failed backup of schedule 2 beside a complete
    set of schedule 1 still needs attention; schedule 1's is resolved by its own set. Equal to
    memory is not enough: a mapping that reads a set's own id as its schedule answers otherwise."""
    service = _service(seeded)
    host = seeded.host
    with service.session(scopes=seeded.scopes(), as_of=AS_OF) as s:
        other, own = (to_json(s.explain(host.run_id(run_id)))["run"] for run_id in (22, 23))
        counted = {run["run_id"] for run in to_json(s.follow_up_page(limit=100))["runs"]}
    assert other["actionability"] == "actionable"
    assert other["proof"] is None
    assert own["actionability"] == "resolved_by_current_state"
    assert own["proof"]["state_kind"] == "backup_set"
    assert own["proof"]["subject"] == str(usable_id(host.subject("1")))
    assert host.run_id(22) in counted
    assert host.run_id(23) not in counted
