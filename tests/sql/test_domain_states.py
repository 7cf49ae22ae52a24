"""State read straight from a host's own domain tables, as they are.

Provider connections keep their own id as the subject, a status and a verification time, and no
attributes; evidence snapshots are scope-wide objects (no subject column) in a table that also
keeps archived rows, which a ``where`` filter leaves out. The SQL state source and the pushdown
must answer as the memory adapter does over the facts those tables mean.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, at
from tests.support import stored_run as run

from runactionability import Actionability, Resolver, StateFact, StateRequest
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.adapters.sqlalchemy import (
    STATE_KINDS,
    StateTableMapping,
    UtcTimestamp,
    create_schema,
    insert_runs,
    open_backend,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.consumers import VisibleScopes
from runactionability.errors import ConfigurationError

domain = sa.MetaData()
connections = sa.Table(
    "m3_provider_connections",
    domain,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("workspace_id", sa.String(40)),
    sa.Column("managed_environment_id", sa.String(40)),
    sa.Column("status", sa.String(20)),
    sa.Column("verified_at", UtcTimestamp()),
)
snapshots = sa.Table(
    "m3_evidence_snapshots",
    domain,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workspace_id", sa.String(40)),
    sa.Column("managed_environment_id", sa.String(40)),
    sa.Column("status", sa.String(20)),
    sa.Column("generated_at", UtcTimestamp()),
    sa.Column("archived", sa.Integer),
)

CONNECTIONS = StateTableMapping(
    kind="provider_connection",
    table="m3_provider_connections",
    environment_id="managed_environment_id",
    subject="id",
    proven_at="verified_at",
    attributes=None,
    statuses={"connected": "healthy", "error": "failing"},
)
SNAPSHOTS = StateTableMapping(
    kind="evidence_snapshot",
    table="m3_evidence_snapshots",
    environment_id="managed_environment_id",
    subject=None,
    proven_at="generated_at",
    attributes=None,
    where={"archived": 0},
)
MAPPINGS = {**reference_state_mappings(), "provider_connection": CONNECTIONS}
MAPPINGS["evidence_snapshot"] = SNAPSHOTS

CHECK, GENERATE = "provider.connection.check", "evidence.snapshot.generate"
HISTORY = [
    run(1, CHECK, start=0, context={"provider_connection_id": "c1"}),
    run(2, CHECK, start=0, context={"provider_connection_id": "c2"}),
    run(3, CHECK, start=0, context={"provider_connection_id": "c3"}),
    run(4, GENERATE, start=0),
    run(5, GENERATE, start=0, environment_id="e2"),
]
# What the domain rows mean: c1 connected since, c2 in error, c3 never verified; e1 has a
# complete snapshot since (its newer archived, failed one is filtered out), e2 only archived ones.
FACTS = [
    StateFact(
        kind="provider_connection",
        workspace_id="w1",
        environment_id="e1",
        subject=subject,
        status=status,
        proven_at=at(10),
    )
    for subject, status in (("c1", "healthy"), ("c2", "failing"))
] + [
    StateFact(
        kind="evidence_snapshot",
        workspace_id="w1",
        environment_id="e1",
        subject=None,
        status="complete",
        proven_at=at(10),
    )
]


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    domain.create_all(sql_engine)
    insert_runs(sql_engine, HISTORY, catalog=CATALOG)

    def connection(id_: str, status: str, verified: float | None) -> dict[str, Any]:
        verified_at = None if verified is None else at(verified)
        return {
            "id": id_,
            "workspace_id": "w1",
            "managed_environment_id": "e1",
            "status": status,
            "verified_at": verified_at,
        }

    def snapshot(id_: int, env: str, status: str, generated: float, archived: int) -> Any:
        return {
            "id": id_,
            "workspace_id": "w1",
            "managed_environment_id": env,
            "status": status,
            "generated_at": at(generated),
            "archived": archived,
        }

    with sql_engine.begin() as db:
        db.execute(
            connections.insert(),
            [connection("c1", "connected", 10), connection("c2", "error", 10)],
        )
        db.execute(
            snapshots.insert(),
            [
                snapshot(1, "e1", "complete", 10, 0),
                snapshot(2, "e1", "failed", 20, 1),
                snapshot(3, "e2", "complete", 10, 1),
            ],
        )
    return sql_engine


def test_domain_tables_give_the_facts_they_mean(engine: sa.Engine) -> None:
    backend = open_backend(engine, states=MAPPINGS, catalog=CATALOG)
    requests = [
        StateRequest(
            kind="provider_connection", workspace_id="w1", environment_id="e1", subject=subject
        )
        for subject in ("c1", "c2", "c3")
    ] + [
        StateRequest(
            kind="evidence_snapshot", workspace_id="w1", environment_id=env, subject=subject
        )
        for env, subject in (("e1", None), ("e2", None), ("e1", "s1"))
    ]
    for kind in ("provider_connection", "evidence_snapshot"):
        memory = MemoryStateSource(kind, [f for f in FACTS if f.kind == kind])
        assert backend.states[kind].current_states(requests) == memory.current_states(requests)


def test_the_pushdown_reads_domain_tables_as_the_resolver_reads_memory(engine: sa.Engine) -> None:
    resolver = Resolver(
        history=MemoryRunHistory(HISTORY),
        states={
            kind: MemoryStateSource(kind, [f for f in FACTS if f.kind == kind])
            for kind in STATE_KINDS
        },
        registry=REGISTRY,
        catalog=CATALOG,
    )
    expected = {r.run_id: r.status for r in resolver.evaluate_many(HISTORY, as_of=AS_OF)}
    assert expected == {
        1: Actionability.RESOLVED_BY_CURRENT_STATE,
        2: Actionability.ACTIONABLE,
        3: Actionability.ACTIONABLE,
        4: Actionability.RESOLVED_BY_CURRENT_STATE,
        5: Actionability.ACTIONABLE,
    }
    pushdown = SqlPushdown(engine, states=MAPPINGS, registry=REGISTRY, catalog=CATALOG)
    assert pushdown.classify(VisibleScopes({"w1"}), as_of=AS_OF) == expected


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"kind; drop": "x"}, "where keys must be SQL identifiers"),
        ({"archived": True}, r"where\['archived'\] must be a str or an int"),
        ({"archived": 0.0}, r"where\['archived'\] must be a str or an int"),
    ],
)
def test_a_where_filter_is_checked_when_it_is_built(where: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        StateTableMapping(kind="evidence_snapshot", table="snapshots", where=where)
