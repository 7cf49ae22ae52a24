"""Fixed boundary cases of every built-in rule: the SQL compilation and the Python rule agree.

Issue 9, item 1. Each built-in rule is the whole policy of the provider-connection family in
turn, on both engines and with both forms of the later-success test; every case is one failed
check of its own subject with the evidence of that subject. The instants sit exactly on the
boundaries, where a changed ``>``/``>=`` shows: a success started exactly when the failure
completed supersedes it and one a microsecond earlier does not; a success completed exactly at
``as_of`` counts and one a microsecond later does not; a state proven exactly when the failure
completed does not resolve it (it must be later) and one proven exactly at ``as_of`` does; ties
between successes with the same event start go by completed_at, then run id (the batching
contract). The Python resolver's status, the pushdown's classification and its counts must be
the expected ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import T0, registry_replacing

from runactionability import (
    Family,
    OperationRun,
    Registry,
    Resolver,
    StateFact,
    run_as_of,
)
from runactionability.adapters.sqlalchemy import (
    SqlRunHistory,
    SqlStateSource,
    create_schema,
    insert_runs,
    insert_states,
    reference_state_mappings,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm
from runactionability.consumers import VisibleScopes
from runactionability.policies import provider_connection
from runactionability.policies.base import Rule
from runactionability.policies.rules import (
    AlwaysInformational,
    AlwaysManualReview,
    FirstDecisive,
    InformationalWhen,
    ResolvedByState,
    SupersededByLaterSuccess,
)
from runactionability.result import Actionability

AS_OF = T0 + timedelta(hours=1)
ENDED = T0 + timedelta(minutes=10)
"""When each case's failure completed (unless the case says otherwise)."""
US = timedelta(microseconds=1)
SCOPES = VisibleScopes({"w1"})
KIND = provider_connection.STATE_KIND
CHECK = "provider.connection.check"

A = Actionability
ACTIONABLE = A.ACTIONABLE
SUPERSEDED = A.SUPERSEDED_BY_LATER_SUCCESS
RESOLVED = A.RESOLVED_BY_CURRENT_STATE


@attrs.frozen
class Success:
    start: datetime | None
    """Its ``started_at`` (None: its event start is its ``created_at``)."""
    completed: datetime
    created: datetime = T0 + timedelta(minutes=5)


@attrs.frozen
class Case:
    """One failed check and the evidence of its subject; ``proof`` is the winning success."""

    name: str
    expected: Actionability | None
    """None: the failure did not exist at ``as_of``."""
    failure: dict[str, Any] = attrs.field(factory=dict)
    successes: tuple[Success, ...] = ()
    states: tuple[tuple[str, datetime], ...] = ()
    proof: int | None = None
    """The index in ``successes`` of the success the resolver must name as proof."""


def replay_cases(terminal: Actionability) -> list[Case]:
    """When the failure itself existed and ended, as of ``as_of`` (for every rule)."""
    return [
        Case("ended-at-as-of", terminal, failure={"completed_at": AS_OF}),
        Case("ended-after-as-of", A.NOT_TERMINAL, failure={"completed_at": AS_OF + US}),
        Case(
            "created-at-as-of",
            terminal,
            failure={"created_at": AS_OF, "completed_at": AS_OF},
        ),
        Case(
            "created-after-as-of",
            None,
            failure={"created_at": AS_OF + US, "completed_at": AS_OF + US},
        ),
    ]


LATER = ENDED + timedelta(minutes=5)
SUPERSEDED_CASES = [
    Case("started-as-failure-ended", SUPERSEDED, successes=(Success(ENDED, LATER),)),
    Case("created-as-failure-ended", SUPERSEDED, successes=(Success(None, LATER, ENDED),)),
    Case("started-before-failure-ended", ACTIONABLE, successes=(Success(ENDED - US, LATER),)),
    Case("completed-at-as-of", SUPERSEDED, successes=(Success(LATER, AS_OF),)),
    Case("completed-after-as-of", ACTIONABLE, successes=(Success(LATER, AS_OF + US),)),
    Case(
        "tie-one-completed-after-as-of",
        SUPERSEDED,
        successes=(Success(ENDED, AS_OF + US), Success(ENDED, LATER)),
        proof=1,
    ),
    Case(
        "tie-by-completed-at",
        SUPERSEDED,
        successes=(Success(ENDED, AS_OF), Success(ENDED, LATER)),
        proof=0,
    ),
    Case(
        "tie-by-run-id",
        SUPERSEDED,
        successes=(Success(ENDED, LATER), Success(ENDED, LATER)),
        proof=1,
    ),
    Case(
        "tie-before-failure-ended",
        ACTIONABLE,
        successes=(Success(ENDED - US, LATER), Success(ENDED - US, AS_OF)),
    ),
]
RESOLVED_CASES = [
    Case("proven-as-failure-ended", ACTIONABLE, states=(("healthy", ENDED),)),
    Case("proven-after-failure-ended", RESOLVED, states=(("healthy", ENDED + US),)),
    Case("proven-at-as-of", RESOLVED, states=(("healthy", AS_OF),)),
    Case("proven-after-as-of", ACTIONABLE, states=(("healthy", AS_OF + US),)),
    Case("not-healthy", ACTIONABLE, states=(("failing", LATER),)),
]
CANCELLED = {"outcome": "cancelled"}
INFORMATIONAL_CASES = [
    Case("cancelled", A.INFORMATIONAL_ONLY, failure=CANCELLED),
    Case("cancelled-at-as-of", A.INFORMATIONAL_ONLY, failure={**CANCELLED, "completed_at": AS_OF}),
    Case(
        "cancelled-after-as-of",
        A.NOT_TERMINAL,
        failure={**CANCELLED, "completed_at": AS_OF + US},
    ),
    Case("failed", ACTIONABLE),
]

RULES: list[tuple[str, Rule, list[Case]]] = [
    ("superseded", SupersededByLaterSuccess(), SUPERSEDED_CASES + replay_cases(ACTIONABLE)),
    ("resolved", ResolvedByState(KIND, {"healthy"}), RESOLVED_CASES + replay_cases(ACTIONABLE)),
    (
        "informational-when",
        InformationalWhen({"cancelled"}),
        INFORMATIONAL_CASES + replay_cases(ACTIONABLE),
    ),
    (
        "always-manual-review",
        AlwaysManualReview(),
        [Case("failed", A.REQUIRES_MANUAL_REVIEW), *replay_cases(A.REQUIRES_MANUAL_REVIEW)],
    ),
    (
        "always-informational",
        AlwaysInformational(),
        [Case("failed", A.INFORMATIONAL_ONLY), *replay_cases(A.INFORMATIONAL_ONLY)],
    ),
]


def registry_with(rule: Rule) -> Registry:
    """The built-in registry, the provider-connection family's policy being ``rule`` alone."""
    family = Family(
        name="provider_connection", policy=FirstDecisive(rules=(rule,)), state_kinds={KIND}
    )

    return registry_replacing(family)


def seed(engine: sa.Engine, cases: Sequence[Case]) -> dict[int, Case]:
    """Insert every case under its own subject; the failures by run id."""
    runs: list[OperationRun] = []
    facts: list[StateFact] = []
    failures: dict[int, Case] = {}
    for number, case in enumerate(cases, start=1):
        subject = f"c{number}"
        common: dict[str, Any] = {
            "type": CHECK,
            "workspace_id": "w1",
            "environment_id": "e1",
            "context": {"provider_connection_id": subject},
        }
        failure: dict[str, Any] = {"status": "completed", "outcome": "failed", "created_at": T0}
        failure |= {"completed_at": ENDED, **case.failure}
        runs.append(OperationRun(id=100 * number, **common, **failure))
        failures[100 * number] = case
        for index, success in enumerate(case.successes, start=1):
            runs.append(
                OperationRun(
                    id=100 * number + index,
                    status="completed",
                    outcome="succeeded",
                    created_at=success.created,
                    started_at=success.start,
                    completed_at=success.completed,
                    **common,
                )
            )
        facts += [
            StateFact(
                kind=KIND,
                workspace_id="w1",
                environment_id="e1",
                subject=subject,
                status=status,
                proven_at=proven,
            )
            for status, proven in case.states
        ]
    insert_runs(engine, runs)
    insert_states(engine, facts)
    return failures


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    return sql_engine


@pytest.mark.parametrize("form", list(SupersedeForm))
@pytest.mark.parametrize(
    ("rule", "cases"), [pytest.param(rule, cases, id=name) for name, rule, cases in RULES]
)
def test_each_rule_agrees_with_its_sql_on_the_boundaries(
    engine: sa.Engine, rule: Rule, cases: list[Case], form: SupersedeForm
) -> None:
    failures = seed(engine, cases)
    built = registry_with(rule)
    states = reference_state_mappings()
    pushdown = SqlPushdown(engine, states=states, registry=built, form=form)
    assert pushdown.evaluated_families == ()
    resolver = Resolver(
        registry=built,
        history=SqlRunHistory(engine),
        states={kind: SqlStateSource(engine, mapping) for kind, mapping in states.items()},
    )
    stored = pushdown._run_source().list_runs(SCOPES.query(), limit=1000).runs
    listed = [then for run in stored if (then := run_as_of(run, AS_OF)) is not None]
    results = dict(
        zip(
            (run.id for run in listed),
            resolver.evaluate_many(listed, as_of=AS_OF),
            strict=True,
        )
    )
    python = {run_id: result.status for run_id, result in results.items()}
    expected = {
        run_id: case.expected for run_id, case in failures.items() if case.expected is not None
    }
    by_name = {
        failures[run_id].name: status for run_id, status in python.items() if run_id in failures
    }
    assert by_name == {failures[run_id].name: status for run_id, status in expected.items()}
    classified = pushdown.classify(SCOPES, as_of=AS_OF)
    assert classified == python
    counts = pushdown.count(SCOPES, as_of=AS_OF).counts
    assert {status: n for status, n in counts.by_status.items() if n} == Counter(python.values())
    for run_id, case in failures.items():
        if case.proof is not None:
            proof = results[run_id].proof
            assert getattr(proof, "run_id", None) == run_id + 1 + case.proof, case.name
