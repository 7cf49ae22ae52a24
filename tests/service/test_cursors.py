"""Issue 10, item 4: cursors are opaque, checked whole before any database sees them, and signed
with a host key when the host gives one. A cursor the service did not issue (altered, cut short,
unsigned, signed by another key) is an ``InvalidCursorError``, and one that points into a
workspace the actor cannot see reveals nothing: hidden data does not exist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from runactionability import ActionabilityService, InvalidCursorError, Registry, UsageError
from runactionability.adapters.sqlalchemy import SqlRunSource, create_schema
from runactionability.adapters.sqlalchemy.cursors import decode_cursor, encode_cursor
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.consumers import AssessedPage, View, VisibleScopes
from runactionability.limits import MAX_CURSOR_LENGTH
from runactionability.model import OperationRun
from runactionability.testing import count_statements

REGISTRY = Registry.default()
CATALOG = REGISTRY.catalog()
KEY = b"the host's cursor key, 32 bytes!"
OTHER_KEY = b"another host's key, also secret."
ACME = VisibleScopes({"acme"})
GLOBEX = VisibleScopes({"globex"})
VIEWS = [View.ALL, View.CURRENT_FOLLOW_UP, View.HISTORY]


def service(engine: sa.Engine, key: bytes | None = KEY) -> ActionabilityService:
    return ActionabilityService(engine, registry=REGISTRY, catalog=CATALOG, cursor_key=key)


def every_page(
    page: Callable[[str | None], AssessedPage],
) -> tuple[list[OperationRun], list[str]]:
    runs: list[OperationRun] = []
    cursors: list[str] = []
    cursor = None
    while True:
        listed = page(cursor)
        runs += [item.run for item in listed.items]
        if listed.next_cursor is None:
            return runs, cursors
        cursor = listed.next_cursor
        cursors.append(cursor)


def first_cursor(engine: sa.Engine, as_of: datetime, view: View, key: bytes | None = KEY) -> str:
    with service(engine, key).session(scopes=ACME, as_of=as_of) as s:
        cursor = s.page(view, limit=1).next_cursor
    assert cursor is not None
    return cursor


def refused(engine: sa.Engine, as_of: datetime, view: View, cursor: str, key: bytes | None) -> str:
    """The error of a page asked for with ``cursor``, checking that no statement ran for it."""
    with (
        service(engine, key).session(scopes=ACME, as_of=as_of) as s,
        count_statements(engine) as seen,
        pytest.raises(InvalidCursorError, match="not a cursor") as raised,
    ):
        s.page(view, limit=2, cursor=cursor)
    assert seen.statements == []
    return str(raised.value)


# -- signed cursors page exactly as unsigned ones ------------------------------------------------


@pytest.mark.parametrize("view", VIEWS)
def test_signed_pages_list_what_unsigned_pages_list(
    demo: tuple[sa.Engine, datetime], view: View
) -> None:
    engine, as_of = demo
    listed = {}
    limit = 1 if view is View.CURRENT_FOLLOW_UP else 25
    for key in (None, KEY):
        with service(engine, key).session(scopes=ACME, as_of=as_of) as s:
            listed[key] = every_page(lambda cursor: s.page(view, limit=limit, cursor=cursor))
    (plain, plain_cursors), (signed, signed_cursors) = listed[None], listed[KEY]
    assert signed == plain
    assert len(signed_cursors) >= 2
    assert all("." not in cursor for cursor in plain_cursors)
    assert all(cursor.rpartition(".")[0] in plain_cursors for cursor in signed_cursors)


@pytest.mark.parametrize("view", VIEWS)
def test_a_tampered_or_truncated_cursor_is_refused_before_any_statement(
    demo: tuple[sa.Engine, datetime], view: View
) -> None:
    engine, as_of = demo
    cursor = first_cursor(engine, as_of, view)
    body, _, signature = cursor.rpartition(".")
    flipped = "A" if body[5] != "A" else "B"
    tampered = {
        "a body character changed": body[:5] + flipped + body[6:] + "." + signature,
        "the signature changed": body + "." + signature[::-1],
        "cut short": cursor[:-1],
        "cut in half": cursor[: len(cursor) // 2],
        "the signature dropped": body,
        "a second signature": cursor + "." + signature,
        "too long": cursor + "A" * MAX_CURSOR_LENGTH,
        "outside the alphabet": cursor.replace(".", ":"),
    }
    for name, text in tampered.items():
        assert text != cursor, name
        refused(engine, as_of, view, text, KEY)


@pytest.mark.parametrize("view", VIEWS)
def test_a_cursor_signed_by_another_key_or_unsigned_is_refused(
    demo: tuple[sa.Engine, datetime], view: View
) -> None:
    engine, as_of = demo
    theirs = first_cursor(engine, as_of, view, OTHER_KEY)
    unsigned = first_cursor(engine, as_of, view, None)
    refused(engine, as_of, view, theirs, KEY)
    refused(engine, as_of, view, unsigned, KEY)
    # A service without a key issues and takes unsigned cursors only.
    refused(engine, as_of, view, first_cursor(engine, as_of, view, KEY), None)
    with service(engine, None).session(scopes=ACME, as_of=as_of) as s:
        assert s.page(view, limit=2, cursor=unsigned).items


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("cursor", ["", 0], ids=["empty text", "zero"])
def test_only_none_asks_for_the_first_page(
    demo: tuple[sa.Engine, datetime], view: View, cursor: Any
) -> None:
    # Both were read as "no cursor" and served the first page: nothing the service issued.
    engine, as_of = demo
    refused(engine, as_of, view, cursor, KEY)
    refused(engine, as_of, view, cursor, None)


# -- a cursor into another workspace reveals nothing --------------------------------------------


@pytest.mark.parametrize("view", VIEWS)
def test_a_forged_cursor_into_another_workspace_reveals_nothing(
    demo: tuple[sa.Engine, datetime], view: View
) -> None:
    engine, as_of = demo
    with service(engine, None).session(scopes=GLOBEX, as_of=as_of) as s:
        hidden = s.page(View.ALL, limit=5).items[-1].run
    with service(engine, None).session(scopes=ACME, as_of=as_of) as s:
        visible, _ = every_page(lambda cursor: s.page(view, limit=50, cursor=cursor))
        # Without a key a cursor is a position anyone can write: at a hidden run's position
        # the page is the visible runs after that position, as at any other position.
        forged = encode_cursor(hidden.created_at, hidden.id)
        after, _ = every_page(lambda cursor: s.page(view, limit=4, cursor=cursor or forged))
    assert isinstance(hidden.created_at, datetime)
    position = (hidden.created_at, int(hidden.id))
    expected = [
        run
        for run in visible
        if isinstance(run.created_at, datetime) and (run.created_at, int(run.id)) < position
    ]
    assert after == expected
    assert {run.workspace_id for run in after} <= {"acme"}
    # With a key, the forged cursor is refused exactly as one pointing at no run at all.
    nowhere = encode_cursor(hidden.created_at, 10**12)
    told = refused(engine, as_of, view, forged, KEY)
    assert told.replace(forged[:40], "") == refused(engine, as_of, view, nowhere, KEY).replace(
        nowhere[:40], ""
    )


def test_a_cursor_signed_for_another_actor_still_shows_only_the_actors_runs(
    demo: tuple[sa.Engine, datetime],
) -> None:
    engine, as_of = demo
    with service(engine).session(scopes=GLOBEX, as_of=as_of) as s:
        theirs = s.page(View.ALL, limit=5).next_cursor
    assert theirs is not None
    with service(engine).session(scopes=ACME, as_of=as_of) as s:
        runs, _ = every_page(lambda cursor: s.page(View.ALL, limit=7, cursor=cursor or theirs))
    assert runs
    assert {run.workspace_id for run in runs} == {"acme"}


# -- the adapters and the key itself -------------------------------------------------------------


def test_the_run_source_and_the_pushdown_sign_with_their_key(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    signed = encode_cursor(datetime(2026, 11, 18, tzinfo=UTC), 5, key=KEY)
    source = SqlRunSource(sql_engine, cursor_key=KEY)
    pushdown = SqlPushdown(sql_engine, cursor_key=KEY)
    assert source.list_runs(ACME.query(), cursor=signed).runs == []
    as_of = datetime(2026, 11, 20, tzinfo=UTC)
    assert pushdown.follow_up_page(ACME, as_of=as_of, cursor=signed).items == ()
    for bad in (signed.rpartition(".")[0], encode_cursor(None, 5, key=OTHER_KEY)):
        with count_statements(sql_engine) as seen:
            with pytest.raises(InvalidCursorError):
                source.list_runs(ACME.query(), cursor=bad)
            with pytest.raises(InvalidCursorError):
                pushdown.follow_up_page(ACME, as_of=as_of, cursor=bad)
        assert seen.statements == []


@pytest.mark.parametrize("key", [b"short", "a str, not bytes at all", 16])
def test_a_weak_or_mistyped_key_is_refused(key: Any) -> None:
    with pytest.raises(UsageError, match="cursor_key"):
        ActionabilityService("sqlite://", registry=REGISTRY, catalog=CATALOG, cursor_key=key)


def test_an_error_quotes_only_the_start_of_a_long_cursor() -> None:
    with pytest.raises(InvalidCursorError) as raised:
        decode_cursor("A" * 100_000)
    assert len(str(raised.value)) < 120


# -- properties -----------------------------------------------------------------------------------

ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5.5))])
CREATED = st.one_of(
    st.none(),
    st.datetimes(timezones=ZONES),
    st.datetimes(),
    st.text(max_size=40),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)
RUN_IDS = st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=40))
KEYS = st.sampled_from([None, KEY])


@given(created=CREATED, run_id=RUN_IDS, key=KEYS)
def test_decoding_what_was_encoded_gives_it_back(created: Any, run_id: Any, key: Any) -> None:
    _, decoded, decoded_id = decode_cursor(encode_cursor(created, run_id, key=key), key=key)
    assert (decoded, decoded_id) == (created, run_id)
    assert type(decoded) is type(created)


def _edited(cursor: str, data: st.DataObject) -> str:
    index = data.draw(st.integers(0, len(cursor)))
    char = data.draw(st.sampled_from("AZaz09-_=.+/ \n{}é"))
    kind = data.draw(st.sampled_from(["insert", "replace", "delete"]))
    if kind == "insert":
        return cursor[:index] + char + cursor[index:]
    if kind == "delete":
        return cursor[:index] + cursor[index + 1 :]
    return cursor[:index] + char + cursor[index + 1 :]


@given(created=CREATED, run_id=RUN_IDS, key=KEYS, data=st.data())
def test_any_other_text_is_refused(
    created: Any, run_id: Any, key: Any, data: st.DataObject
) -> None:
    cursor = encode_cursor(created, run_id, key=key)
    text = data.draw(st.one_of(st.text(max_size=60), st.just(cursor)))
    text = _edited(text, data)
    if text == cursor:
        return
    try:
        decoded = decode_cursor(text, key=key)
    except InvalidCursorError:
        return
    # Only another cursor the codec writes itself decodes, and never one under a key.
    assert key is None
    assert encode_cursor(decoded[1], decoded[2]) == text


@given(data=st.data())
def test_refused_text_never_reaches_the_database(data: st.DataObject) -> None:
    engine = sa.create_engine("sqlite://")
    create_schema(engine)
    source = SqlRunSource(engine, cursor_key=KEY)
    cursor = encode_cursor(datetime(2026, 11, 18, tzinfo=UTC), 5, key=KEY)
    text = _edited(cursor, data)
    with count_statements(engine) as seen:
        if text == cursor:
            source.list_runs(ACME.query(), cursor=text)
            assert seen.statements
        else:
            with pytest.raises(InvalidCursorError):
                source.list_runs(ACME.query(), cursor=text)
            assert seen.statements == []
    engine.dispose()
