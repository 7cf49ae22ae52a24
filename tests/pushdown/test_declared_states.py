"""The pushdown resolves by state only with statuses the family declares, as the core does.

Issue 8, finding 6, on both engines: a family composed of the built-in rules whose
``ResolvedByState`` tests a status its declaration leaves out is judged by the resolver, which
refuses that resolution, so a count and a page say what the resolver says.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.support import T0, registry_replacing

from runactionability import (
    Family,
    OperationRun,
    Registry,
    Resolver,
    ResolvingStates,
    StateFact,
)
from runactionability.adapters.sqlalchemy import (
    SqlRunHistory,
    SqlStateSource,
    create_schema,
    insert_runs,
    insert_states,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, is_compilable
from runactionability.consumers import VisibleScopes
from runactionability.policies import provider_connection
from runactionability.policies.rules import (
    FirstDecisive,
    OpenRelatedAction,
    ResolvedByState,
    SupersededByLaterSuccess,
)
from runactionability.result import Actionability

# Results are asked for soon after these runs, not at the shared AS_OF.
AS_OF = T0 + timedelta(hours=1)
SCOPES = VisibleScopes({"w1"})
KIND = provider_connection.STATE_KIND


def lax_family(declared: Sequence[str] | None) -> Family:
    """The provider family, but its state rule also takes ``failing`` for fixed."""
    policy = FirstDecisive(
        rules=(SupersededByLaterSuccess(), ResolvedByState(KIND, {"healthy", "failing"})),
        action=OpenRelatedAction(KIND, "Fix the provider connection"),
    )
    if declared is None:
        return Family(name="provider_connection", policy=policy, state_kinds={KIND})
    return Family(
        name="provider_connection",
        policy=policy,
        state_kinds={KIND},
        resolving_states=(ResolvingStates(KIND, declared),),
    )


def registry(family: Family) -> Registry:
    return registry_replacing(family)


def failed_check(run_id: int, connection: str) -> OperationRun:
    return OperationRun(
        id=run_id,
        type="provider.connection.check",
        workspace_id="w1",
        environment_id="e1",
        status="completed",
        outcome="failed",
        created_at=T0,
        completed_at=T0 + timedelta(minutes=10),
        context={"provider_connection_id": connection},
    )


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    return sql_engine


def _seed(engine: sa.Engine) -> None:
    insert_runs(engine, [failed_check(1, "c1"), failed_check(2, "c2"), failed_check(3, "c3")])
    insert_states(
        engine,
        [
            StateFact(
                kind=KIND,
                workspace_id="w1",
                environment_id="e1",
                subject=subject,
                status=status,
                proven_at=T0 + timedelta(minutes=20),
            )
            for subject, status in (("c1", "healthy"), ("c2", "failing"))
        ],
    )


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        pytest.param(
            ("healthy",),
            {
                1: Actionability.RESOLVED_BY_CURRENT_STATE,
                2: Actionability.REQUIRES_MANUAL_REVIEW,
                3: Actionability.ACTIONABLE,
            },
            id="declares-healthy-only",
        ),
        pytest.param(
            None,
            {
                1: Actionability.RESOLVED_BY_CURRENT_STATE,
                2: Actionability.RESOLVED_BY_CURRENT_STATE,
                3: Actionability.ACTIONABLE,
            },
            id="derived-from-its-rules",
        ),
    ],
)
def test_the_pushdown_agrees_with_the_core_on_declared_statuses(
    engine: sa.Engine, declared: Sequence[str] | None, expected: dict[int, Actionability]
) -> None:
    _seed(engine)
    family = lax_family(declared)
    built = registry(family)
    states = reference_state_mappings()
    resolver = Resolver(
        registry=built,
        history=SqlRunHistory(engine),
        states={kind: SqlStateSource(engine, mapping) for kind, mapping in states.items()},
    )
    pushdown = SqlPushdown(engine, states=states, registry=built)
    runs = pushdown._run_source().list_runs(SCOPES.query(), limit=100).runs
    python = {
        run.id: result.status
        for run, result in zip(runs, resolver.evaluate_many(runs, as_of=AS_OF), strict=True)
    }
    assert python == expected
    assert pushdown.classify(SCOPES, as_of=AS_OF) == expected
    counts = pushdown.count(SCOPES, as_of=AS_OF).counts
    assert {status: n for status, n in counts.by_status.items() if n} == {
        status: sum(1 for s in expected.values() if s is status)
        for status in set(expected.values())
    }
    page = pushdown.follow_up_page(SCOPES, as_of=AS_OF)
    assert sorted(run.id for run in page.runs) == sorted(
        run_id for run_id, status in expected.items() if status.needs_attention
    )
    assert is_compilable(family) is (declared is None)
