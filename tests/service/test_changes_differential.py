"""Issue 14: the change feed against evaluating every visible run at both instants.

Random histories (bad rows, aliases, workspace-owned types, ties, state facts, a hidden
workspace and a hidden environment) and random windows: every page of ``changes``, concatenated,
must name exactly the visible runs whose resolver status at ``until`` differs from the one at
``since``, with both statuses, in (changed_at, run id) order, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import CATALOG, REGISTRY, at, registry_replacing, state_facts

from runactionability import ActionabilityService, OperationRun, StateFact, run_as_of
from runactionability.adapters.sqlalchemy import (
    RunTableMapping,
    create_schema,
    insert_runs,
    insert_states,
    metadata,
)
from runactionability.consumers import VisibleScopes
from runactionability.evidence import EvidenceRequest
from runactionability.model import usable_id
from runactionability.policies.base import Evidence, Family, ProblemRun
from runactionability.policies.rules import FirstDecisive, SupersededByLaterSuccess
from runactionability.result import Actionability, Decision, Reason

STORED_NAMES = sorted(name for t in CATALOG for name in CATALOG.stored_names(t.name))
# Most runs share a few types, so that failures meet the successes and states that settle them:
# a scope-wide sync and its alias, a provider check (by subject, superseded by an authorize too,
# resolved by state), a workspace-owned artifact, a high-risk restore.
FOCUS = [
    "inventory.sync",
    "inventory_sync",
    "provider.connection.check",
    "provider_connection.check",
    "provider.connection.authorize",
    "review_pack.generate",
    "restore.execute",
]
SCOPE_CHOICES = [
    VisibleScopes({"w1"}),
    VisibleScopes({"w1", "w2"}),
    VisibleScopes({"w1"}, environment_ids={"e1"}),
    VisibleScopes({"w2"}, environment_ids={"e1", "e2"}, include_workspace_runs=False),
]


def rarely(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> Any:
    """``common`` nine times in ten, else ``rare`` (a bad row, a tie)."""
    return st.integers(0, 9).flatmap(lambda n: rare if n == 0 else common)


@st.composite
def runs(draw: st.DrawFn, run_id: int) -> OperationRun:
    type_ = draw(st.sampled_from(FOCUS) | st.sampled_from([*STORED_NAMES, "unknown.type"]))
    op_type = CATALOG.resolve(type_)
    created = draw(st.integers(0, 12))
    context: Any = {}
    if op_type is not None and op_type.subject_key is not None:
        # Several subjects per type, one stored as an int and as its text, and (rarely) none.
        value = draw(rarely(st.sampled_from(["s1", "s2", 1, "1"]), st.sampled_from(["", None])))
        if value is not None:
            context = {op_type.subject_key: value}
    duration = draw(rarely(st.integers(1, 4), st.sampled_from([None, -1, 0])))
    return OperationRun(
        id=run_id,
        type=type_,
        workspace_id=draw(st.sampled_from(["w1", "w2"])),
        environment_id=draw(rarely(st.sampled_from(["e1", "e2"]), st.just(None))),
        status=draw(rarely(st.just("completed"), st.sampled_from(["queued", "running", "bogus"]))),
        outcome=draw(st.sampled_from(["failed", "failed", "succeeded", "succeeded", "cancelled"])),
        created_at=draw(rarely(st.just(at(created)), st.sampled_from([None, at(created)]))),
        started_at=draw(rarely(st.just(None), st.sampled_from([at(created), at(created + 1)]))),
        completed_at=None if duration is None else at(created + duration),
        context=context,
    )


def _later(draw: st.DrawFn, fresh: OperationRun, earlier: OperationRun) -> OperationRun:
    if not isinstance(earlier.completed_at, datetime) or fresh.status != "completed":
        return fresh
    start = earlier.completed_at + timedelta(minutes=draw(st.integers(0, 3)))
    end = start + timedelta(minutes=draw(st.integers(0, 4)))
    outcome = draw(st.sampled_from(["succeeded", "succeeded", "failed"]))
    return attrs.evolve(fresh, outcome=outcome, created_at=start, started_at=None, completed_at=end)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[OperationRun], list[StateFact]]:
    count = draw(st.integers(1, 25))
    history: list[OperationRun] = []
    follows = st.integers(0, 2).map(bool)
    for n in range(1, count + 1):
        fresh = draw(runs(n))
        follow = draw(follows)
        if history and follow:
            # A later run of an earlier one's type, scope and subject: the success (or the
            # repeated failure) that may settle it.
            earlier = draw(st.sampled_from(history))
            fresh = _later(draw, fresh, earlier)
            fresh = attrs.evolve(
                fresh,
                type=earlier.type,
                workspace_id=earlier.workspace_id,
                environment_id=earlier.environment_id,
                context=earlier.context,
            )
        history.append(fresh)
    return history, draw(state_facts(max_size=8)) + draw(settling_states(history))


def settling_states(history: list[OperationRun]) -> st.SearchStrategy[list[StateFact]]:
    """States of the objects failed runs are about, proven after they failed: healthy or not."""
    about = []
    for run in history:
        op_type = CATALOG.resolve(run.type)
        completed = run.completed_at
        if op_type is None or run.outcome != "failed" or not isinstance(completed, datetime):
            continue
        subject = None if op_type.subject_key is None else run.context.get(op_type.subject_key)
        # A run without a usable subject is judged before any state is read: no state settles it.
        if op_type.subject_key is not None and usable_id(subject) is None:
            continue
        for resolving in REGISTRY.families()[op_type.family].resolving_states:
            settled = sorted(resolving.statuses)[0]
            about.append((resolving.kind, run, completed, subject, settled))
    if not about:
        return st.just([])
    return st.lists(
        st.builds(
            lambda found, settled, delay: StateFact(
                kind=found[0],
                workspace_id=str(found[1].workspace_id),
                environment_id=found[1].environment_id,
                subject=None if found[3] is None else str(found[3]),
                status=found[4] if settled else "failing",
                proven_at=found[2] + timedelta(minutes=delay),
            ),
            st.sampled_from(about),
            rarely(st.just(True), st.just(False)),
            rarely(st.integers(1, 4), st.just(0)),
        ),
        max_size=4,
    )


@st.composite
def windows(
    draw: st.DrawFn, history: list[OperationRun], facts: list[StateFact]
) -> tuple[datetime, datetime]:
    """A window, mostly opening just as a failure completed or just before a state was proven
    (so that what settles a failure arrives inside), else anywhere; ties with the runs' own
    instants included."""
    ends = sorted(
        {
            run.completed_at
            for run in history
            if run.outcome == "failed" and isinstance(run.completed_at, datetime)
        }
        | {fact.proven_at - timedelta(minutes=1) for fact in facts}
    )
    since = at(draw(st.integers(-1, 14)))
    at_an_end = draw(st.integers(0, 3).map(bool))
    if ends and at_an_end:
        since = draw(st.sampled_from(ends))
    return since, since + timedelta(minutes=draw(st.integers(0, 10)))


class ShortFailuresAreNoise:
    """A host's own rule: a sync that failed within two minutes of its start is informational."""

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        if run.completed_at - run.run.created_at < timedelta(minutes=2):
            return Decision(
                status=Actionability.INFORMATIONAL_ONLY,
                reason=Reason.INFORMATIONAL_FAMILY,
                explanation="A short failure is noise.",
            )
        return None


CUSTOM_SYNC = Family(
    name="repeatable_sync",
    policy=FirstDecisive(rules=(SupersededByLaterSuccess(), ShortFailuresAreNoise())),
)


@pytest.fixture
def services(sql_engine: sa.Engine) -> Iterator[list[ActionabilityService]]:
    """A service with the built-in families, one whose sync family has a rule of its own, and
    one that reads subjects from the JSON context rather than the subject column."""
    create_schema(sql_engine)
    built = [
        ActionabilityService(sql_engine, registry=registry, catalog=CATALOG)
        for registry in (REGISTRY, registry_replacing(CUSTOM_SYNC))
    ]
    json_subject = RunTableMapping(table="operation_runs", subject=None)
    built.append(
        ActionabilityService(sql_engine, runs=json_subject, registry=REGISTRY, catalog=CATALOG)
    )
    yield built
    for service in built:
        service.close()


def _clear(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


def expected_changes(
    service: ActionabilityService, scopes: VisibleScopes, since: datetime, until: datetime
) -> dict[Any, tuple[Actionability | None, Actionability]]:
    """Every visible run evaluated at both instants with the resolver, compared."""
    with service.session(scopes=scopes, as_of=until) as session:
        stored = session.backend.runs.list_runs(scopes.query(), limit=10_000).runs

        def statuses(at_: datetime) -> dict[Any, Actionability]:
            then = [r for run in stored if (r := run_as_of(run, at_)) is not None]
            results = session.resolver.evaluate_many(then, as_of=at_, scopes=scopes)
            return {run.id: result.status for run, result in zip(then, results, strict=True)}

        before, after = statuses(since), statuses(until)
    return {
        run_id: (before.get(run_id), status)
        for run_id, status in after.items()
        if before.get(run_id) != status
    }


def every_page(
    service: ActionabilityService,
    scopes: VisibleScopes,
    since: datetime,
    until: datetime,
    limit: int,
) -> list[Any]:
    found: list[Any] = []
    cursor = None
    while True:
        with service.session(scopes=scopes, as_of=until) as session:
            if cursor is None:
                page = session.changes(since=since, until=until, limit=limit)
            else:
                page = session.changes(cursor=cursor, limit=limit)
        assert len(page.changes) <= limit
        found += page.changes
        cursor = page.next_cursor
        if cursor is None:
            return found


@settings(
    max_examples=min(settings().max_examples, 60),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=histories(),
    pick=st.data(),
)
def test_the_feed_equals_every_run_compared_at_both_instants(
    services: list[ActionabilityService],
    data: tuple[list[OperationRun], list[StateFact]],
    pick: st.DataObject,
) -> None:
    history, facts = data
    engine = services[0].bind
    assert isinstance(engine, sa.Engine)
    _clear(engine)
    insert_runs(engine, history, catalog=CATALOG)
    insert_states(engine, facts)
    # Loading a history costs more than reading it: each is read through several windows.
    for _ in range(3):
        since, until = pick.draw(windows(history, facts))
        scopes = pick.draw(st.sampled_from(SCOPE_CHOICES))
        limit = pick.draw(st.integers(1, 4))
        service = pick.draw(st.sampled_from(services))
        found = every_page(service, scopes, since, until, limit)
        got = {change.run_id: (change.since_status, change.status) for change in found}
        assert len(got) == len(found), "a change is never delivered twice"
        assert got == expected_changes(service, scopes, since, until)
        keys = [change.key for change in found]
        assert keys == sorted(keys)
        for change in found:
            assert since < change.changed_at <= until
            assert scopes.admits_run(change.run)
            if change.evidence is not None:
                evidence = change.evidence
                assert scopes.admits(evidence.workspace_id, evidence.environment_id)
