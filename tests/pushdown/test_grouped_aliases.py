"""The pushdown's aliases are collision-free, and no pattern match depends on a column collation.

Type names that sanitise alike (``meta.sync``, ``meta-sync``, ``meta sync``) or share their first
61 characters (PostgreSQL keeps 63 bytes of an identifier) once gave two subqueries one alias:
the grouped form (PostgreSQL's default) failed, or joined one type's successes to the other's
failures. And PostgreSQL refuses regular expressions on a nondeterministic collation, which a
host's case-insensitive id columns use. Both forms, both engines, against the resolver.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import T0, at

from runactionability import OperationRun, Resolver, StateFact
from runactionability.adapters.sqlalchemy import (
    REFERENCE_RUNS,
    STATE_KINDS,
    RunTableMapping,
    SqlRunHistory,
    SqlStateSource,
    create_schema,
    insert_runs,
    insert_states,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm
from runactionability.catalog import OperationType
from runactionability.consumers import VisibleScopes
from runactionability.hookspecs import hookimpl
from runactionability.policies import BUILTIN_PLUGINS
from runactionability.policies.base import Family
from runactionability.policies.rules import (
    FirstDecisive,
    ResolvedByState,
    SupersededByLaterSuccess,
)
from runactionability.registry import Registry
from runactionability.result import Actionability

# Results are asked for soon after these runs, not at the shared AS_OF.
AS_OF = T0 + timedelta(hours=2)
SCOPES = VisibleScopes({"w1"})
KIND = "provider_connection"
KEY = "provider_connection_id"
PREFIX = "x" * 61
NAMES = (
    "meta.sync",
    "meta-sync",
    "meta sync",
    "meta_sync",
    f"{PREFIX}.alpha",
    f"{PREFIX}.beta",
    "ü" * 40 + ".a",
    "ü" * 40 + ".b",
)
"""Names that sanitise alike, share 61 characters, or pass 63 bytes in two-byte letters."""


class MetaFamily:
    """A plugin family over the colliding names: superseded by a later success of the same
    type, else resolved by the connection's healthy state."""

    @hookimpl
    def runactionability_families(self) -> Sequence[Family]:
        policy = FirstDecisive(
            rules=(SupersededByLaterSuccess(), ResolvedByState(KIND, {"healthy"}))
        )
        return [Family(name="meta", policy=policy, state_kinds=frozenset({KIND}))]

    @hookimpl
    def runactionability_operation_types(self) -> Sequence[OperationType]:
        workspace_owned = {f"{PREFIX}.beta", "meta_sync"}
        return [
            OperationType(
                name=name,
                family="meta",
                subject_key=KEY,
                ownership="workspace" if name in workspace_owned else "environment",
            )
            for name in NAMES
        ]


def _registry() -> Registry:
    registry = Registry()
    for name, plugin in BUILTIN_PLUGINS:
        registry.register(plugin, name=name)
    registry.register(MetaFamily(), name="meta_family")
    return registry


REGISTRY = _registry()
CATALOG = REGISTRY.catalog()


def _run(run_id: int, type_: str, outcome: str, start: int, **changes: Any) -> OperationRun:
    fields: dict[str, Any] = {
        "id": run_id,
        "type": type_,
        "workspace_id": "w1",
        "environment_id": "e1",
        "status": "completed",
        "outcome": outcome,
        "created_at": at(start),
        "started_at": None,
        "completed_at": at(start + 1),
        "context": {KEY: "c1"},
    }
    fields.update(changes)
    return OperationRun(**fields)


def history() -> tuple[list[OperationRun], list[StateFact]]:
    """Per name (index i): a failure; for even i a later success of that very type, for i
    divisible by 3 a healthy state of its own connection. Every name's success comes after every
    other name's failure, so evidence shared between colliding aliases would show."""
    runs: list[OperationRun] = []
    facts: list[StateFact] = []
    for index, name in enumerate(NAMES):
        subject = f"c{index}"
        runs.append(_run(100 + index, name, "failed", 10, context={KEY: subject}))
        # Every type's failure on the shared connection, and only some types' successes.
        runs.append(_run(200 + index, name, "failed", 10))
        if index % 2 == 0:
            runs.append(_run(300 + index, name, "succeeded", 40 + index))
            runs.append(_run(400 + index, name, "succeeded", 40 + index, context={KEY: subject}))
        if index % 3 == 0:
            facts.append(
                StateFact(
                    kind=KIND,
                    workspace_id="w1",
                    environment_id=None if name in {f"{PREFIX}.beta", "meta_sync"} else "e1",
                    subject=subject,
                    status="healthy",
                    proven_at=at(50),
                )
            )
    return runs, facts


def expected() -> dict[Any, Actionability]:
    statuses: dict[Any, Actionability] = {}
    for index in range(len(NAMES)):
        superseded = index % 2 == 0
        statuses[100 + index] = (
            Actionability.SUPERSEDED_BY_LATER_SUCCESS
            if superseded
            else Actionability.RESOLVED_BY_CURRENT_STATE
            if index % 3 == 0
            else Actionability.ACTIONABLE
        )
        statuses[200 + index] = (
            Actionability.SUPERSEDED_BY_LATER_SUCCESS if superseded else Actionability.ACTIONABLE
        )
        if superseded:
            statuses[300 + index] = statuses[400 + index] = Actionability.INFORMATIONAL_ONLY
    return statuses


def _resolver(engine: sa.Engine, runs: RunTableMapping) -> Resolver:
    return Resolver(
        history=SqlRunHistory(engine, runs),
        states={
            kind: SqlStateSource(engine, mapping)
            for kind, mapping in reference_state_mappings().items()
        },
        registry=REGISTRY,
        catalog=CATALOG,
        strict=True,
    )


def check_every_path(engine: sa.Engine, runs: RunTableMapping) -> None:
    """The resolver, and both pushdown forms' classification, counts and pages, agree."""
    want = expected()
    pushdown = SqlPushdown(engine, runs=runs, registry=REGISTRY, catalog=CATALOG)
    listed = pushdown._run_source().list_runs(SCOPES.query(), limit=1000).runs
    results = _resolver(engine, runs).evaluate_many(listed, as_of=AS_OF)
    assert {r.run_id: r.status for r in results} == want
    needing = {run_id for run_id, status in want.items() if status.needs_attention}
    for form in SupersedeForm:
        pushdown = SqlPushdown(engine, runs=runs, registry=REGISTRY, catalog=CATALOG, form=form)
        assert pushdown.classify(SCOPES, as_of=AS_OF) == want
        counts = pushdown.count(SCOPES, as_of=AS_OF)
        assert {s: n for s, n in counts.counts.by_status.items() if n} == Counter(want.values())
        assert counts.by_family["meta"].total == len(want)
        seen: list[Any] = []
        cursor = None
        while True:
            page = pushdown.follow_up_page(SCOPES, as_of=AS_OF, limit=3, cursor=cursor)
            seen += [r.id for r in page.runs]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(seen) == sorted(needing)


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    return sql_engine


@pytest.mark.parametrize("json_subject", [False, True], ids=["subject-column", "json-subject"])
def test_types_whose_aliases_would_collide_keep_their_own_evidence(
    engine: sa.Engine, json_subject: bool
) -> None:
    runs, facts = history()
    insert_runs(engine, runs, catalog=CATALOG)
    insert_states(engine, facts)
    mapping = RunTableMapping(table="operation_runs", subject=None) if json_subject else None
    check_every_path(engine, mapping or REFERENCE_RUNS)


def test_every_alias_is_distinct_and_within_postgresql_identifier_length(
    engine: sa.Engine,
) -> None:
    for form in SupersedeForm:
        compiled = SqlPushdown(engine, registry=REGISTRY, catalog=CATALOG, form=form).compiled()
        statement = compiled.select(compiled.status)
        # The walk meets one alias once per column that names it: one name per alias object.
        by_object = {
            id(node): node.name
            for node in sa.sql.visitors.iterate(statement)
            if isinstance(node, sa.sql.selectable.Alias | sa.sql.selectable.Subquery)
        }
        aliases = list(by_object.values())
        assert len(aliases) > len(NAMES)
        assert len(aliases) == len(set(aliases))
        assert all(len(name.encode()) <= 63 for name in aliases)


NONDETERMINISTIC = "ra_ci"


@pytest.mark.parametrize("json_subject", [False, True], ids=["subject-column", "json-subject"])
def test_nondeterministic_collation_columns_are_classified(
    engine: sa.Engine, json_subject: bool
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL has nondeterministic collations")
    with engine.begin() as connection:
        icu = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_collation WHERE collprovider = 'i'"
        ).scalar_one()
        if not icu:
            pytest.skip("this PostgreSQL server is built without ICU")
        connection.exec_driver_sql(
            f"CREATE COLLATION IF NOT EXISTS {NONDETERMINISTIC}"
            " (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
        )
        columns = ("workspace_id", "environment_id", "type", "status", "outcome", "subject")
        for column in columns:
            connection.exec_driver_sql(
                f"ALTER TABLE operation_runs ALTER COLUMN {column}"
                f" TYPE varchar(200) COLLATE {NONDETERMINISTIC}"
            )
        for kind in STATE_KINDS:
            for column in ("workspace_id", "environment_id", "subject", "status"):
                connection.exec_driver_sql(
                    f"ALTER TABLE {kind}_states ALTER COLUMN {column}"
                    f" TYPE varchar(200) COLLATE {NONDETERMINISTIC}"
                )
    runs, facts = history()
    # An id with a character outside printable ASCII and one with a space at an end: the
    # classification tests both with a pattern before anything else.
    runs.append(_run(900, "meta.sync", "failed", 10, environment_id="é1"))
    runs.append(_run(901, "meta.sync", "failed", 10, context={KEY: " c9"}))
    insert_runs(engine, runs, catalog=CATALOG)
    insert_states(engine, facts)
    mapping = RunTableMapping(table="operation_runs", subject=None) if json_subject else None
    runs_mapping = mapping or REFERENCE_RUNS
    pushdown = SqlPushdown(engine, runs=runs_mapping, registry=REGISTRY, catalog=CATALOG)
    listed = pushdown._run_source().list_runs(SCOPES.query(), limit=1000).runs
    results = _resolver(engine, runs_mapping).evaluate_many(listed, as_of=AS_OF)
    want: dict[Any, Actionability] = {r.run_id: r.status for r in results}
    assert {k: v for k, v in want.items() if k < 900} == expected()
    assert want[900] is Actionability.ACTIONABLE
    for form in SupersedeForm:
        pushdown = SqlPushdown(
            engine, runs=runs_mapping, registry=REGISTRY, catalog=CATALOG, form=form
        )
        assert pushdown.classify(SCOPES, as_of=AS_OF) == want
        counts = pushdown.count(SCOPES, as_of=AS_OF).counts
        assert {s: n for s, n in counts.by_status.items() if n} == Counter(want.values())
        page = pushdown.follow_up_page(SCOPES, as_of=AS_OF, limit=100)
        assert sorted(r.id for r in page.runs) == sorted(
            k for k, v in want.items() if v.needs_attention
        )
