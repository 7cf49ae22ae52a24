"""Embed runactionability in a host that already holds its runs in memory.

The story behind the library: a provider connection check failed, an operator fixed the
connection, and the dashboard kept saying "fix me". Here the follow-up list is derived instead.

    .venv/bin/python examples/embed_in_memory.py
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from runactionability import OperationRun, Resolver, StateFact
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STATE_KINDS = (
    "backup_set",
    "baseline_snapshot",
    "environment_review",
    "evidence_snapshot",
    "provider_connection",
    "review_pack",
)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def check(run_id: int, outcome: str, minute: int, connection: int) -> OperationRun:
    return OperationRun(
        id=run_id,
        type="provider.connection.check",
        workspace_id="acme",
        environment_id="prod",
        status="completed",
        outcome=outcome,
        created_at=at(minute),
        completed_at=at(minute + 1),
        context={"provider_connection_id": connection},
    )


RUNS = [
    check(1, "failed", 0, connection=7),  # fixed since: the connection was verified healthy
    check(2, "blocked", 5, connection=8),  # superseded: a later check of connection 8 succeeded
    check(3, "succeeded", 30, connection=8),
    check(4, "failed", 40, connection=9),  # still broken: nothing says otherwise
    OperationRun(
        id=5,
        type="inventory_sync",  # an alias of inventory.sync
        workspace_id="acme",
        environment_id="prod",
        status="running",
        created_at=at(50),
    ),
    OperationRun(
        id=6,
        type="restore.execute",
        workspace_id="acme",
        environment_id="prod",
        status="completed",
        outcome="failed",
        created_at=at(60),
        completed_at=at(75),
        context={"backup_set_id": "bs-1"},
    ),
]

HEALTHY = StateFact(
    kind="provider_connection",
    workspace_id="acme",
    environment_id="prod",
    subject="7",
    status="healthy",
    proven_at=at(20),
)


def main() -> None:
    states = {kind: MemoryStateSource(kind) for kind in STATE_KINDS}
    states["provider_connection"].add(HEALTHY)
    resolver = Resolver(history=MemoryRunHistory(RUNS), states=states)
    results = resolver.evaluate_many(RUNS, as_of=at(24 * 60))

    for result in results:
        flag = "!" if result.needs_attention else " "
        print(f"{flag} run {result.run_id}: {result.status.value:<28} {result.reason}")
        print(f"    {result.explanation}")
        if result.primary_action is not None:
            print(f"    -> {result.primary_action.label}")

    follow_up = [result.run_id for result in results if result.needs_attention]
    assert follow_up == [4, 6], follow_up
    print(f"needs attention: {len(follow_up)} of {len(results)} runs")


if __name__ == "__main__":
    main()
