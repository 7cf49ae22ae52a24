"""The in-memory run source refuses a cursor it did not issue as the SQL sources do (audit F10):
text nested too deep, over-long, or no text at all is an ``InvalidCursorError``, never the raw
``RecursionError`` or ``AttributeError`` a host passing a request's parameter through met."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from tests.support import run

from runactionability import InvalidCursorError, VisibleScopes
from runactionability.adapters.memory import MemoryRunSource
from runactionability.limits import MAX_CURSOR_LENGTH


def _encoded(body: bytes) -> str:
    return base64.urlsafe_b64encode(body).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(_encoded(b"[" * 2000), id="nested too deep"),
        pytest.param(_encoded(b"[" * (MAX_CURSOR_LENGTH)), id="too long"),
        pytest.param(5, id="an int"),
        pytest.param(b"abc", id="bytes"),
        pytest.param(["a"], id="a list"),
        # Only None asks for the first page: a falsy value is no cursor it issued either.
        pytest.param("", id="empty text"),
        pytest.param(0, id="zero"),
    ],
)
def test_a_cursor_it_did_not_issue_is_refused(cursor: Any) -> None:
    source = MemoryRunSource([run(1), run(2)])
    query = VisibleScopes({"acme"}).query()
    with pytest.raises(InvalidCursorError, match="not a cursor this run source issued"):
        source.list_runs(query, limit=1, cursor=cursor)


def test_its_own_cursor_still_pages_and_a_long_one_is_quoted_bounded() -> None:
    source = MemoryRunSource([run(1), run(2)])
    query = VisibleScopes({"acme"}).query()
    first = source.list_runs(query, limit=1)
    assert first.next_cursor is not None
    second = source.list_runs(query, limit=1, cursor=first.next_cursor)
    assert [r.id for r in (*first.runs, *second.runs)] == [2, 1]
    with pytest.raises(InvalidCursorError) as raised:
        source.list_runs(query, cursor="A" * (MAX_CURSOR_LENGTH + 1))
    assert len(str(raised.value)) < 100
