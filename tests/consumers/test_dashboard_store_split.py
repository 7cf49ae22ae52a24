"""Issue 8, finding 11: ``dashboard(store=...)`` splits its assessments by run, not by position.

A store may hand back a run the actor's scopes do not admit (a host column that compares ids
case-insensitively, a third-party store); ``assess`` drops it, and the dashboard must not then
shift an active run into ``top`` and out of active work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
from tests.support import AS_OF, T0

from runactionability import OperationRun, Resolver
from runactionability.adapters.memory import MemoryRunHistory, MemoryRunSource, MemoryStateSource
from runactionability.adapters.sqlalchemy import STATE_KINDS
from runactionability.consumers import StatusCounts, VisibleScopes, dashboard
from runactionability.result import Actionability

SCOPES = VisibleScopes({"w1"}, environment_ids={"e1"})


def sync(run_id: int, env: str, minutes: int, **changes: Any) -> OperationRun:
    fields: dict[str, Any] = {
        "id": run_id,
        "type": "policy.sync",
        "workspace_id": "w1",
        "environment_id": env,
        "status": "completed",
        "outcome": "failed",
        "created_at": T0 + timedelta(minutes=minutes),
        "started_at": None,
        "completed_at": T0 + timedelta(minutes=minutes + 1),
        "context": {},
    }
    fields.update(changes)
    return OperationRun(**fields)


HIDDEN = sync(1, "secret", 50)
SHOWN = sync(2, "e1", 40)
RUNNING = sync(
    3, "e1", 30, type="inventory.sync", status="running", outcome=None, completed_at=None
)


@attrs.frozen
class Page:
    runs: tuple[OperationRun, ...]
    next_cursor: str | None = None
    scanned: int = 0


@attrs.frozen
class Counts:
    counts: StatusCounts
    by_family: dict[str | None, StatusCounts]
    by_environment: dict[tuple[str, str | None], StatusCounts]


class LeakyStore:
    """A store whose follow-up page also holds a run outside the scopes, newest first."""

    def count(self, scopes: VisibleScopes, *, as_of: datetime) -> Counts:
        return Counts(counts=StatusCounts.of(()), by_family={}, by_environment={})

    def follow_up_page(
        self,
        scopes: VisibleScopes,
        *,
        as_of: datetime,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        return Page(runs=(HIDDEN, SHOWN)[:limit])


def test_a_dropped_store_row_moves_no_active_run_into_top() -> None:
    runs = [HIDDEN, SHOWN, RUNNING]
    states = {kind: MemoryStateSource(kind) for kind in STATE_KINDS}
    resolver = Resolver(history=MemoryRunHistory(runs), states=states)
    summary = dashboard(
        MemoryRunSource(runs), resolver, scopes=SCOPES, as_of=AS_OF, store=LeakyStore()
    )
    assert [item.run_id for item in summary.top] == [2]
    assert all(item.status is not Actionability.NOT_TERMINAL for item in summary.top)
    assert summary.active.running == 1
    assert [item.run_id for item in summary.active.newest] == [3]
