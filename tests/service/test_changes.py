"""Issue 14: what a host reads from the change feed: each change with its cause and instant,
pages, refused cursors, a fixed number of statements, and the async twin."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.support import (
    CATALOG,
    REGISTRY,
    async_engine_of,
    at,
    form_validator,
    scoped_run,
    state,
)

from runactionability import (
    Actionability,
    ActionabilityService,
    AsyncActionabilityService,
    Change,
    ChangeCause,
    ChangePage,
    InvalidCursorError,
    OperationRun,
    RunFact,
    StateFact,
    UsageError,
    json_schema,
)
from runactionability.adapters.sqlalchemy import create_schema, insert_runs, insert_states
from runactionability.consumers import VisibleScopes
from runactionability.testing import assert_max_statements
from runactionability.testing.statements import count_statements

ACME = VisibleScopes({"acme"})
SYNC = "inventory.sync"


@pytest.fixture
def service(sql_engine: sa.Engine) -> Iterator[ActionabilityService]:
    create_schema(sql_engine)
    service = ActionabilityService(sql_engine, registry=REGISTRY, catalog=CATALOG)
    yield service
    service.close()


def _load(service: ActionabilityService, runs: list[OperationRun], facts: list[StateFact]) -> None:
    engine = service.bind
    assert isinstance(engine, sa.Engine)
    insert_runs(engine, runs, catalog=CATALOG)
    insert_states(engine, facts)


def test_a_later_success_supersedes_a_failure_in_the_window(service: ActionabilityService) -> None:
    failed = scoped_run(1, SYNC, at=timedelta(minutes=0))
    fixed = scoped_run(2, SYNC, outcome="succeeded", at=timedelta(minutes=30))
    _load(service, [failed, fixed], [])
    with service.session(scopes=ACME) as session:
        page = session.changes(since=at(10), until=at(60))
    by_run = {change.run_id: change for change in page.changes}
    assert set(by_run) == {1, 2}
    superseded = by_run[1]
    assert superseded.since_status is Actionability.ACTIONABLE
    assert superseded.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert superseded.cause is ChangeCause.LATER_SUCCESS
    assert isinstance(superseded.evidence, RunFact)
    assert superseded.evidence.run_id == 2
    assert superseded.changed_at == at(35)
    # The success itself moved from running to informational when it completed.
    assert by_run[2].cause is ChangeCause.RUN_COMPLETED
    assert by_run[2].since_status is None
    assert [c.run_id for c in page.changes] == [1, 2]
    assert page.next_cursor is None


def test_a_state_proven_in_the_window_resolves_a_failed_check(
    service: ActionabilityService,
) -> None:
    failed = scoped_run(1, "provider.connection.check", provider_connection_id=7)
    healthy = state(proven_at=at(40))
    _load(service, [failed], [healthy])
    with service.session(scopes=ACME) as session:
        (change,) = session.changes(since=at(10), until=at(60)).changes
    assert change.status is Actionability.RESOLVED_BY_CURRENT_STATE
    assert change.cause is ChangeCause.STATE
    assert change.evidence == healthy
    assert change.changed_at == at(40)


def test_nothing_is_reported_when_only_the_proof_changed(service: ActionabilityService) -> None:
    failed = scoped_run(1, SYNC)
    first = scoped_run(2, SYNC, outcome="succeeded", at=timedelta(minutes=10))
    second = scoped_run(3, SYNC, outcome="succeeded", at=timedelta(minutes=40))
    _load(service, [failed, first, second], [])
    with service.session(scopes=ACME) as session:
        page = session.changes(since=at(30), until=at(60))
    assert [change.run_id for change in page.changes] == [3]


def test_a_hidden_success_is_no_change(service: ActionabilityService) -> None:
    failed = scoped_run(1, SYNC)
    hidden = scoped_run(2, SYNC, env="staging", outcome="succeeded", at=timedelta(minutes=20))
    _load(service, [failed, hidden], [])
    scopes = VisibleScopes({"acme"}, environment_ids={"prod"})
    with service.session(scopes=scopes) as session:
        assert session.changes(since=at(10), until=at(60)).changes == ()


def test_pages_follow_the_cursor_without_repeating(service: ActionabilityService) -> None:
    runs = [scoped_run(n, SYNC, at=timedelta(minutes=n)) for n in range(1, 8)]
    _load(service, runs, [])
    seen: list[Change] = []
    with service.session(scopes=ACME) as session:
        page = session.changes(since=at(0), until=at(60), limit=3)
        seen += page.changes
        while page.next_cursor is not None:
            assert page.poll_cursor == page.next_cursor
            page = session.changes(cursor=page.next_cursor, limit=3)
            seen += page.changes
    assert [change.run_id for change in seen] == list(range(1, 8))
    assert [change.changed_at for change in seen] == [at(n + 5) for n in range(1, 8)]


def _feed_cursor(*payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(["changes/1", *payload]).encode()).decode()


# Windows whose instants fall outside the years 1 to 9999 once in UTC.
UNPLACED = [
    _feed_cursor("2026-11-19T00:00:00+00:00", "9999-12-31T23:00:00-05:00", None, None, False),
    _feed_cursor("0001-01-01T00:00:00+05:00", "2026-11-20T00:00:00+00:00", None, None, False),
]


@pytest.mark.parametrize("cursor", ["", "bm90IGEgY3Vyc29y", "x" * 5000, "eyJhIjogMX0=", *UNPLACED])
def test_a_cursor_it_did_not_issue_is_refused_before_any_statement(
    service: ActionabilityService, cursor: str
) -> None:
    with (
        service.session(scopes=ACME) as session,
        count_statements(service.bind) as counter,
        pytest.raises(InvalidCursorError),
    ):
        session.changes(cursor=cursor)
    assert counter.count == 0


def test_a_signed_cursor_is_refused_by_another_key(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    _runs = [scoped_run(n, SYNC, at=timedelta(minutes=n)) for n in range(1, 4)]
    insert_runs(sql_engine, _runs, catalog=CATALOG)
    one = ActionabilityService(sql_engine, catalog=CATALOG, cursor_key=b"k" * 16)
    other = ActionabilityService(sql_engine, catalog=CATALOG, cursor_key=b"o" * 16)
    with one.session(scopes=ACME) as session:
        cursor = session.changes(since=at(0), until=at(60), limit=1).next_cursor
        assert cursor is not None
        assert session.changes(cursor=cursor, limit=1).changes
    with other.session(scopes=ACME) as session, pytest.raises(InvalidCursorError):
        session.changes(cursor=cursor)


def test_the_window_must_be_placed(service: ActionabilityService) -> None:
    with service.session(scopes=ACME) as session:
        with pytest.raises(UsageError):
            session.changes(since=at(10).replace(tzinfo=None), until=at(20))
        with pytest.raises(UsageError):
            session.changes(since=at(30), until=at(20))
        with pytest.raises(UsageError):
            session.changes()


def test_a_window_past_the_sessions_instant_is_refused(service: ActionabilityService) -> None:
    # Run 3 is created after the session's as_of: explain says it does not exist, so no page
    # of the same session may list it (as a window ending after as_of would).
    _load(service, [scoped_run(n, SYNC, at=timedelta(minutes=10 * n)) for n in range(1, 4)], [])
    with service.session(scopes=ACME, as_of=at(60)) as later:
        cursor = later.changes(since=at(0), until=at(60), limit=1).next_cursor
    assert cursor is not None
    with service.session(scopes=ACME, as_of=at(25)) as session:
        assert session.explain(3) is None
        with pytest.raises(UsageError, match="after this session's as_of"):
            session.changes(since=at(0), until=at(60))
        with pytest.raises(UsageError, match="a cursor's window"):
            session.changes(cursor=cursor)
        ids = [change.run_id for change in session.changes(since=at(0), until=at(25)).changes]
    assert ids == [1, 2]


def test_the_async_session_refuses_a_window_past_its_instant(
    service: ActionabilityService,
) -> None:
    engine = service.bind
    assert isinstance(engine, sa.Engine)
    _load(service, [scoped_run(1, SYNC)], [])

    async def work() -> None:
        twin = AsyncActionabilityService(
            async_engine_of(engine), registry=REGISTRY, catalog=CATALOG
        )
        try:
            async with twin.session(scopes=ACME, as_of=at(25)) as session:
                with pytest.raises(UsageError, match="after this session's as_of"):
                    await session.changes(since=at(0), until=at(60))
        finally:
            await twin.engine.dispose()

    asyncio.run(work())


@pytest.mark.parametrize("size", [10, 200])
def test_the_statements_do_not_grow_with_the_history(
    service: ActionabilityService, size: int
) -> None:
    old = [scoped_run(n, SYNC, at=timedelta(minutes=-n), sub=n % 5) for n in range(1, size)]
    new = [
        scoped_run(1000 + n, SYNC, outcome="succeeded", at=timedelta(minutes=30 + n))
        for n in range(3)
    ]
    _load(service, [*old, *new], [state(proven_at=at(40))])
    # The window's runs, one read per state kind, the problem runs the arrivals reach, and one
    # evidence batch at each instant (its history read and its state kinds).
    kinds = len(service._wiring.backend.states)
    bound = 2 + kinds + 2 * (1 + kinds)
    with service.session(scopes=ACME) as session, assert_max_statements(service.bind, bound):
        page = session.changes(since=at(10), until=at(60), limit=1000)
    assert len(page.changes) == size - 1 + 3


def test_the_async_session_reads_the_same_changes(service: ActionabilityService) -> None:
    failed = scoped_run(1, SYNC)
    fixed = scoped_run(2, SYNC, outcome="succeeded", at=timedelta(minutes=30))
    _load(service, [failed, fixed], [])
    engine = service.bind
    assert isinstance(engine, sa.Engine)
    with service.session(scopes=ACME) as session:
        expected = session.changes(since=at(10), until=at(60), limit=1)

    async def work() -> tuple[ChangePage, ChangePage]:
        twin = AsyncActionabilityService(
            async_engine_of(engine), registry=REGISTRY, catalog=CATALOG
        )
        try:
            async with twin.session(scopes=ACME) as session:
                first = await session.changes(since=at(10), until=at(60), limit=1)
                assert first.next_cursor is not None
                rest = await session.changes(cursor=first.next_cursor, limit=1)
                return first, rest
        finally:
            await twin.engine.dispose()

    first, rest = asyncio.run(work())
    assert first.changes == expected.changes
    assert [c.run_id for c in rest.changes] == [2]


def test_change_pages_have_their_documented_json_form(service: ActionabilityService) -> None:
    failed = scoped_run(1, "provider.connection.check", provider_connection_id=7)
    other = scoped_run(2, SYNC, at=timedelta(minutes=20))
    _load(service, [failed, other], [state(proven_at=at(40))])
    with service.session(scopes=ACME, locale="de") as session:
        page = session.changes(since=at(10), until=at(60), limit=1)
        document = session.to_json(page)
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    form_validator("change_page").validate(document)
    (change,) = document["changes"]
    assert change["cause"] == "run_completed"
    assert change["since_status"] is None
    assert change["result"]["explanation_message"]["id"]
    assert document["next_cursor"] == document["poll_cursor"] == page.next_cursor
    causes = json_schema()["$defs"]["change"]["properties"]["cause"]["enum"]
    assert causes == [cause.value for cause in ChangeCause]
