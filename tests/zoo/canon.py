"""The zoo's one canonical history, and what every host of the zoo is.

A host stores the canonical history in its own tables, its own types and its own vocabulary; the
memory adapter is handed the same history *as the host stores it* (its ids, its subjects, the
rows its tables can hold, its bad rows as they read back). Every leg then checks that the SQL
ports, the pushdown, the request API and the CLI over the host's tables answer exactly as the
memory adapter does over that view.

The canonical ids come from small pools (two workspaces, two environments, numeric subjects) so
that runs collide on scope, subject and time; a host translates each to its own id (an integer
key, a uuid, or the text itself).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import CATALOG, STATE_KINDS, T0, Ports, memory_ports
from tests.support import stored_fact as fact
from tests.support import stored_run as run

from runactionability import ActionabilityService, OperationRun, StateFact
from runactionability.adapters.sqlalchemy import (
    RunTableMapping,
    SqlRunHistory,
    SqlRunSource,
    SqlStateSource,
    StateTableMapping,
)
from runactionability.model import RunId, usable_id
from runactionability.scopes import VisibleScopes

WORKSPACES = ("w1", "w2")
ENVIRONMENTS = ("e1", "e2")
SUBJECTS = ("7", "8", "42")
CHECK = "provider.connection.check"


def zoo_uuid(name: object) -> str:
    """The uuid a uuid host gives the canonical id ``name`` (stable, lowercase text)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"zoo:{name}"))


@attrs.frozen
class Mapped:
    """A host's mappings, as reflection plus the host's few declarations make them."""

    runs: RunTableMapping
    states: Mapping[str, StateTableMapping]


class Host:
    """One schema of the zoo. Subclasses name their tables, ids, vocabulary and writer."""

    name: str = ""
    dialects: tuple[str, ...] = ()
    attributes: bool = False
    """Whether the host's state tables keep a fact's attributes (the reference schema's do)."""

    # -- ids: the canonical value as this host stores and reads it back ------------------------
    def workspace(self, value: Any) -> Any:
        return value

    def environment(self, value: Any) -> Any:
        return value

    def subject(self, value: Any) -> Any:
        """A canonical subject (from a context or a fact) as the host stores it."""
        return value

    def run_id(self, value: Any) -> RunId:
        return value  # type: ignore[no-any-return]

    # -- the view the memory adapter gets -----------------------------------------------------
    def view_run(self, canonical: OperationRun) -> OperationRun:
        """The run as it reads back from the host's table."""
        op_type = CATALOG.resolve(canonical.type)
        context = canonical.context
        if op_type is not None and op_type.subject_key and isinstance(context, Mapping):
            key = op_type.subject_key
            if key in context and usable_id(context[key]) is not None:
                context = {**context, key: self.subject(context[key])}
        return attrs.evolve(
            canonical,
            id=self.run_id(canonical.id),
            workspace_id=self.workspace(canonical.workspace_id),
            environment_id=self.environment(canonical.environment_id),
            context=context,
        )

    def view_facts(self, canonical: Iterable[StateFact]) -> list[StateFact]:
        """The facts the host's state tables hold, as they read back (default: all of them)."""
        return [self.view_fact(one) for one in canonical]

    def view_fact(self, canonical: StateFact) -> StateFact:
        """The fact as a state source returns it: its ids as the text the core compares."""
        return attrs.evolve(
            canonical,
            workspace_id=str(usable_id(self.workspace(canonical.workspace_id))),
            environment_id=usable_id(self.environment(canonical.environment_id)),
            subject=None
            if canonical.subject is None
            else usable_id(self.subject(canonical.subject)),
        )

    def holding(self, facts: Iterable[StateFact]) -> list[StateFact]:
        """The facts of a port contract test as the host's state tables hold them (ids still the
        contract's); skips the test where they cannot hold its history."""
        facts = list(facts)
        if not self.attributes and any(one.attributes for one in facts):
            pytest.skip(f"the {self.name} host's state tables keep no attributes")
        return facts

    # -- storage ---------------------------------------------------------------------------
    tables: sa.MetaData
    """The host's tables and indexes (its glue's metadata)."""

    def create(self, connection: sa.Connection) -> None:
        """Create the tables that do not exist yet."""
        self.tables.create_all(connection)

    def drop(self, connection: sa.Connection) -> None:
        self.tables.drop_all(connection)

    def empty(self, connection: sa.Connection) -> None:
        """Delete every row: far cheaper than dropping and recreating the tables on PostgreSQL."""
        for table in reversed(self.tables.sorted_tables):
            connection.execute(table.delete())

    def write(
        self, connection: sa.Connection, runs: Sequence[OperationRun], facts: Sequence[StateFact]
    ) -> None:
        """Store views made by ``view_run``/``view_facts`` as the host's own code would."""
        raise NotImplementedError

    def write_bad_rows(self, connection: sa.Connection) -> list[OperationRun]:
        """Store rows no well-behaved writer makes; returns them as the memory adapter sees them."""
        raise NotImplementedError

    def told(self, dialect: str) -> dict[str, str]:
        """What the runs table's types cannot say: the zone of a wall clock, an epoch's unit."""
        return {}

    def reflect_runs(self, bind: sa.Engine | sa.Connection, **told: str) -> RunTableMapping:
        """Reflect the runs table with the host's names and vocabulary, and ``told``."""
        raise NotImplementedError

    def mapped(self, engine: sa.Engine) -> Mapped:
        """The mappings the host's glue (its ``examples/host_<name>.py``) serves: reflection plus
        only what reflection cannot know."""
        raise NotImplementedError


def served(service: ActionabilityService) -> Mapped:
    """The mappings ``service`` reads through: what a host's glue gave it, with the service's
    defaults for what the glue left out (all of it, for the reference schema)."""
    try:
        # Opening a session reads no table: its ports are the service's, bound to a snapshot.
        with service.session(scopes=VisibleScopes({"nobody"}), as_of=T0) as session:
            backend = session.backend
    finally:
        service.close()
    states = {kind: source.mapping for kind, source in backend.states.items()}
    return Mapped(runs=backend.history.mapping, states=states)


@attrs.frozen
class Seeded:
    """A host's tables on one engine, and the history as the host stores it."""

    host: Host
    engine: sa.Engine
    mapped: Mapped
    runs: list[OperationRun]
    facts: list[StateFact]

    def memory(self) -> Ports:
        """The memory adapter over the same history."""
        return memory_ports(self.runs, self.facts)

    def sql(self) -> Ports:
        """The SQL ports over the host's own tables, under its mappings."""
        states = self.mapped.states
        return Ports(
            name=f"{self.host.name}-{self.engine.dialect.name}",
            history=SqlRunHistory(self.engine, self.mapped.runs),
            states={kind: SqlStateSource(self.engine, mapping) for kind, mapping in states.items()},
            runs=SqlRunSource(self.engine, self.mapped.runs, catalog=CATALOG),
        )

    def scopes(self) -> VisibleScopes:
        """An actor who sees both canonical workspaces."""
        return VisibleScopes({self.host.workspace(w) for w in WORKSPACES})


def seed(
    host: Host,
    engine: sa.Engine,
    runs: Iterable[OperationRun],
    facts: Iterable[StateFact],
    *,
    bad_rows: bool = True,
) -> Seeded:
    """Empty the host's tables (made if missing), store the history (and its bad rows) in them.

    A test that seeds more than once (each hypothesis example) reuses the tables its first seed
    made; the ``zoo`` fixture drops them when the test ends.
    """
    viewed = [host.view_run(one) for one in runs]
    held = host.view_facts(facts)
    with engine.begin() as connection:
        host.create(connection)
        host.empty(connection)
        host.write(connection, viewed, held)
        if bad_rows:
            viewed += host.write_bad_rows(connection)
    return Seeded(host=host, engine=engine, mapped=host.mapped(engine), runs=viewed, facts=held)


def canonical_history() -> tuple[list[OperationRun], list[StateFact]]:
    """One history every host stores: each family's loop, ties, cut-offs and active work."""
    conn = {"provider_connection_id": "7"}
    runs = [
        run(1, CHECK, outcome="blocked", start=0, context=conn),
        run(2, CHECK, outcome="failed", start=30, context={"provider_connection_id": 8}),
        run(3, outcome="failed", start=10),
        run(4, "inventory_sync", outcome="succeeded", start=20),
        run(5, "directory.sync", outcome="failed", start=30),
        run(6, "directory.sync", outcome="succeeded", start=40, workspace_id="w2"),
        run(7, "restore.execute", outcome="failed", start=50, context={"backup_set_id": "42"}),
        run(8, "restore.execute", outcome="succeeded", start=60, context={"backup_set_id": "42"}),
        run(9, "baseline.capture", outcome="failed", start=70, context={"baseline_profile_id": 8}),
        run(10, "notifications.send", outcome="failed", start=80, environment_id=None),
        run(11, status="running", outcome=None, start=90, completed_at=None),
        run(12, status="queued", outcome=None, start=91, completed_at=None, environment_id="e2"),
        # Ties on the event start: completed_at, then the run id, decide.
        run(13, "directory.sync", outcome="succeeded", start=100, end=110, workspace_id="w2"),
        run(14, "directory.sync", outcome="succeeded", start=100, end=110, workspace_id="w2"),
        run(15, "directory.sync", outcome="failed", start=95, workspace_id="w2"),
        # A success completed after the instant results are asked for is no evidence.
        run(16, outcome="partially_succeeded", start=120, environment_id="e2"),
        run(17, outcome="succeeded", start=121, end=int(timedelta(days=11).total_seconds() // 60)),
        run(18, CHECK, outcome="cancelled", start=130, context=conn),
        run(
            19,
            "review_pack.generate",
            outcome="failed",
            start=140,
            environment_id=None,
            context={"review_pack_id": "42"},
        ),
        run(20, "evidence.snapshot.generate", outcome="failed", start=150),
        run(21, "review.environment.generate", outcome="failed", start=5, workspace_id="w2"),
        # A backup set is of a schedule: set #2 (of schedule 1) resolves schedule 1's failed
        # backup, never schedule 2's, for a host that numbers its sets (laravel) as for one that
        # keys its states by subject.
        run(22, "backup.create", outcome="failed", start=160, context={"backup_schedule_id": "2"}),
        run(23, "backup.create", outcome="failed", start=161, context={"backup_schedule_id": "1"}),
    ]
    facts = [
        fact("provider_connection", "7", "healthy", 5),
        fact("provider_connection", "8", "failing", 40),
        fact("baseline_snapshot", "8", "complete", 75),
        fact("review_pack", "42", "published", 150, environment_id=None),
        fact("backup_set", "42", "complete", 30),
        fact("backup_set", "1", "complete", 170),
        fact("evidence_snapshot", None, "complete", 160),
        fact("environment_review", None, "complete", 10, workspace_id="w2"),
        fact("environment_review", "8", "complete", 10),
    ]
    assert {one.kind for one in facts} <= set(STATE_KINDS)
    assert all(one.created_at >= T0 for one in runs)
    return runs, facts


def plain(context: object) -> object:
    """A run's context as a host's JSON column takes it (a plain dict)."""
    return dict(context) if isinstance(context, Mapping) else context


def assert_same_listing(runs: Iterable[OperationRun], sql: list[Any], memory: list[Any]) -> None:
    """Listed runs (JSON forms) alike but for the SQL stores' documented difference: a run whose
    created_at is unreadable sorts where the database orders the stored value (memory: last)."""
    placed = {
        run.id
        for run in runs
        if isinstance(run.created_at, datetime) and run.created_at.utcoffset() is not None
    }
    assert sorted(sql, key=repr) == sorted(memory, key=repr)
    assert [r for r in sql if r["run_id"] in placed] == [r for r in memory if r["run_id"] in placed]
