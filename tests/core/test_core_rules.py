"""The rules the core enforces for every policy (rules 1-9 of the architecture brief)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.support import AS_OF, MINUTE, T0, Recorder, evaluate, resolver, run, state

from runactionability import (
    Actionability,
    Decision,
    DuplicateRunError,
    Evidence,
    Family,
    LaterSuccessRequest,
    OperationRun,
    OperationType,
    ProblemRun,
    Reason,
    Registry,
    Resolver,
    ResolvingStates,
    Risk,
    RunFact,
    StateFact,
    UsageError,
    hookimpl,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.limits import MAX_CONTEXT_DEPTH

NAIVE = datetime(2026, 11, 2, 9, 0)


class SpyHistory(MemoryRunHistory):
    def __init__(self, runs: Iterable[OperationRun] = ()) -> None:
        super().__init__(runs)
        self.calls: list[Collection[LaterSuccessRequest]] = []

    def latest_successes(
        self, requests: Collection[LaterSuccessRequest], *, as_of: datetime
    ) -> Any:
        self.calls.append(requests)
        return super().latest_successes(requests, as_of=as_of)


# -- rule 1: one result per run, in input order -------------------------------------------------


def test_every_run_gets_one_result_in_input_order() -> None:
    runs = [
        run(3, outcome="succeeded"),
        run(1),
        run(2, status="running", outcome=None),
        run("x", type="no.such.type"),
        run(5, created_at=NAIVE),
    ]
    results = resolver(runs).evaluate_many(runs, as_of=AS_OF)
    assert [r.run_id for r in results] == [3, 1, 2, "x", 5]
    assert [r.status for r in results] == [
        Actionability.INFORMATIONAL_ONLY,
        Actionability.ACTIONABLE,
        Actionability.NOT_TERMINAL,
        Actionability.REQUIRES_MANUAL_REVIEW,
        Actionability.REQUIRES_MANUAL_REVIEW,
    ]


def test_an_empty_batch_gives_no_results_and_no_io() -> None:
    history = SpyHistory()
    assert resolver_with(history).evaluate_many([], as_of=AS_OF) == []
    assert history.calls == []


def test_duplicate_run_ids_raise_before_any_io() -> None:
    history = SpyHistory()
    runs = [run(1), run(2), run(1, outcome="blocked"), run(2), run(3)]
    with pytest.raises(DuplicateRunError) as raised:
        resolver_with(history).evaluate_many(runs, as_of=AS_OF)
    assert raised.value.run_ids == (1, 2)
    assert history.calls == []


def test_an_int_id_and_its_string_are_different_runs() -> None:
    results = resolver().evaluate_many([run(1), run("1")], as_of=AS_OF)
    assert [r.run_id for r in results] == [1, "1"]


def resolver_with(history: MemoryRunHistory, **options: Any) -> Resolver:
    kinds: tuple[str, ...] = ("provider_connection", "backup_set", "baseline_snapshot")
    kinds += ("evidence_snapshot", "environment_review", "review_pack")
    return Resolver(
        history=history,
        states={kind: MemoryStateSource(kind) for kind in kinds},
        strict=True,
        **options,
    )


# -- rule 2: active and succeeded runs never reach a policy ------------------------------------


@pytest.mark.parametrize("status", ["queued", "running"])
def test_active_runs_are_not_terminal(status: str) -> None:
    result = evaluate(run(1, status=status, outcome=None))
    assert result.status is Actionability.NOT_TERMINAL
    assert result.reason == Reason.RUN_NOT_TERMINAL
    assert not result.needs_attention
    assert result.operation_type == "provider.connection.check"
    assert result.proof is None


def test_succeeded_runs_are_informational_even_when_unknown_or_malformed() -> None:
    runs = [
        run(1, outcome="succeeded"),
        run(2, type="no.such.type", outcome="succeeded"),
        run(3, outcome="succeeded", created_at=NAIVE, completed_at=None, context="oops"),
        run(4, outcome="succeeded", environment_id=None, workspace_id=None),
    ]
    results = resolver().evaluate_many(runs, as_of=AS_OF)
    assert {r.status for r in results} == {Actionability.INFORMATIONAL_ONLY}
    assert {r.reason for r in results} == {Reason.RUN_SUCCEEDED}
    assert results[0].family == "provider_connection"
    assert results[1].family is None
    assert results[1].operation_type is None


class Exploding:
    """A policy that fails whenever it is asked anything."""

    def plan(self, run: ProblemRun) -> Iterable[Any]:
        raise RuntimeError("plan exploded")

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        raise RuntimeError("decide exploded")


def plugin_registry(
    policy: Any,
    *,
    risk: Risk = Risk.STANDARD,
    kinds: Any = ("thing",),
    resolving: Sequence[ResolvingStates] = (ResolvingStates("thing", {"healthy"}),),
) -> Registry:
    """An empty registry plus one family ``claims`` of one type ``claim.check``.

    The family declares a ``healthy`` thing as resolving its runs, as a real plugin would.
    """

    class Plugin:
        @hookimpl
        def runactionability_families(self) -> Sequence[Family]:
            return (
                Family(
                    name="claims",
                    policy=policy,
                    risk=risk,
                    state_kinds=kinds,
                    resolving_states=resolving,
                ),
            )

        @hookimpl
        def runactionability_operation_types(self) -> Sequence[OperationType]:
            return (
                OperationType(
                    name="claim.check",
                    family="claims",
                    aliases=("claim_check",),
                    subject_key="thing_id",
                    superseded_by=("claim.other",),
                ),
                OperationType(name="claim.other", family="claims", subject_key="thing_id"),
                OperationType(name="claim.unrelated", family="claims", subject_key="thing_id"),
            )

    registry = Registry()
    registry.register(Plugin(), name="claims-plugin")
    return registry


def claim(run_id: str | int, **fields: Any) -> OperationRun:
    fields.setdefault("context", {"thing_id": "t1"})
    return run(run_id, "claim.check", **fields)


def claims_resolver(
    policy: Any,
    history: Iterable[OperationRun] = (),
    states: Iterable[StateFact] = (),
    *,
    risk: Risk = Risk.STANDARD,
    strict: bool = False,
    recorder: Recorder | None = None,
    history_port: Any = None,
) -> Resolver:
    registry = plugin_registry(policy, risk=risk)
    if recorder is not None:
        registry.register(recorder, name="recorder")
    return Resolver(
        registry=registry,
        history=history_port or MemoryRunHistory(history),
        states={"thing": MemoryStateSource("thing", states)},
        strict=strict,
    )


def test_active_and_succeeded_runs_never_reach_the_policy() -> None:
    runs = [
        claim(1, status="queued", outcome=None),
        claim(2, status="running", outcome=None),
        claim(3, outcome="succeeded"),
    ]
    results = claims_resolver(Exploding(), strict=True).evaluate_many(runs, as_of=AS_OF)
    assert [r.status for r in results] == [
        Actionability.NOT_TERMINAL,
        Actionability.NOT_TERMINAL,
        Actionability.INFORMATIONAL_ONLY,
    ]


# -- rules 3 and 4: rows the core cannot judge safely ------------------------------------------


def _deep(depth: int) -> dict[str, Any]:
    """A context ``depth`` levels deep (``{}`` is one) naming subject 7, made iteratively."""
    inner: list[Any] = []
    for _ in range(depth - 2):
        inner = [inner]
    return {"provider_connection_id": 7, "deep": inner}


def test_a_context_at_the_depth_limit_is_read() -> None:
    result = evaluate(run(1, context=_deep(MAX_CONTEXT_DEPTH)))
    assert result.status is Actionability.ACTIONABLE


INVALID_ROWS: list[tuple[str, dict[str, Any], Reason]] = [
    ("naive created_at", {"created_at": NAIVE}, Reason.NAIVE_TIMESTAMP),
    ("naive completed_at", {"completed_at": NAIVE + timedelta(hours=1)}, Reason.NAIVE_TIMESTAMP),
    (
        "naive started_at",
        {"started_at": NAIVE, "completed_at": T0 + MINUTE},
        Reason.NAIVE_TIMESTAMP,
    ),
    ("created_at not a datetime", {"created_at": "2026-11-02"}, Reason.INVALID_TIMESTAMP),
    ("created_at missing", {"created_at": None, "completed_at": T0}, Reason.INVALID_TIMESTAMP),
    ("completed without completed_at", {"completed_at": None}, Reason.MISSING_COMPLETED_AT),
    (
        "completed_at before created_at",
        {"completed_at": T0 - MINUTE},
        Reason.COMPLETED_BEFORE_CREATED,
    ),
    (
        "outcome on a queued run",
        {"status": "queued", "outcome": "failed"},
        Reason.OUTCOME_ON_ACTIVE_RUN,
    ),
    (
        "outcome on a running run",
        {"status": "running", "outcome": "succeeded"},
        Reason.OUTCOME_ON_ACTIVE_RUN,
    ),
    ("unknown status", {"status": "exploded"}, Reason.INVALID_STATUS),
    ("status missing", {"status": None}, Reason.INVALID_STATUS),
    ("unknown outcome", {"outcome": "meh"}, Reason.INVALID_OUTCOME),
    ("completed without outcome", {"outcome": None}, Reason.MISSING_OUTCOME),
    ("unknown type", {"type": "no.such.type"}, Reason.UNKNOWN_OPERATION_TYPE),
    ("type not a string", {"type": None}, Reason.UNKNOWN_OPERATION_TYPE),
    ("no environment", {"environment_id": None}, Reason.MISSING_ENVIRONMENT),
    ("context a list", {"context": ["provider_connection_id", 7]}, Reason.INVALID_CONTEXT),
    ("context a string", {"context": "provider_connection_id=7"}, Reason.INVALID_CONTEXT),
    ("context too deep", {"context": _deep(MAX_CONTEXT_DEPTH + 1)}, Reason.INVALID_CONTEXT),
    # Past Python's recursion limit: freezing it raised RecursionError.
    ("context far too deep", {"context": _deep(5_000)}, Reason.INVALID_CONTEXT),
    ("workspace missing", {"workspace_id": None}, Reason.INVALID_SCOPE),
    ("workspace empty", {"workspace_id": ""}, Reason.INVALID_SCOPE),
    ("workspace blank", {"workspace_id": "  "}, Reason.INVALID_SCOPE),
    ("workspace a bool", {"workspace_id": True}, Reason.INVALID_SCOPE),
    ("workspace a float", {"workspace_id": 1.5}, Reason.INVALID_SCOPE),
    ("environment blank", {"environment_id": " "}, Reason.INVALID_SCOPE),
    ("environment a bool", {"environment_id": False}, Reason.INVALID_SCOPE),
    ("subject missing", {"context": {}}, Reason.MISSING_CORRELATION),
    ("subject None", {"context": {"provider_connection_id": None}}, Reason.MISSING_CORRELATION),
    ("subject a bool", {"context": {"provider_connection_id": True}}, Reason.MISSING_CORRELATION),
    ("subject empty", {"context": {"provider_connection_id": ""}}, Reason.MISSING_CORRELATION),
    ("subject blank", {"context": {"provider_connection_id": " \t"}}, Reason.MISSING_CORRELATION),
    ("subject a float", {"context": {"provider_connection_id": 7.0}}, Reason.MISSING_CORRELATION),
    ("subject a list", {"context": {"provider_connection_id": [7]}}, Reason.MISSING_CORRELATION),
]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [pytest.param(fields, reason, id=name) for name, fields, reason in INVALID_ROWS],
)
def test_an_invalid_row_needs_manual_review_with_its_own_reason(
    fields: dict[str, Any], reason: Reason
) -> None:
    bad = run(99, **fields)
    good = run(100)
    results = resolver().evaluate_many([bad, good], as_of=AS_OF)
    assert results[0].run_id == 99
    assert results[0].status is Actionability.REQUIRES_MANUAL_REVIEW
    assert results[0].reason == reason
    assert results[0].needs_attention
    assert results[0].primary_action is not None
    assert results[0].explanation.endswith(".")
    # One bad row never changes its neighbour's answer.
    assert results[1].status is Actionability.ACTIONABLE


def test_an_invalid_row_of_a_known_type_keeps_its_family() -> None:
    result = evaluate(run(1, "provider_connection.check", environment_id=None))
    assert result.family == "provider_connection"
    assert result.operation_type == "provider.connection.check"
    unknown = evaluate(run(2, "no.such.type"))
    assert (unknown.family, unknown.operation_type) == (None, None)


def test_an_invalid_row_is_judged_before_its_policy_even_when_cancelled() -> None:
    # Cancelled provider checks are informational, but only once the row is sound (rules 3-4).
    no_environment = evaluate(run(1, outcome="cancelled", environment_id=None))
    no_subject = evaluate(run(2, outcome="cancelled", context={}))
    assert no_environment.reason == Reason.MISSING_ENVIRONMENT
    assert no_subject.reason == Reason.MISSING_CORRELATION
    assert evaluate(run(3, outcome="cancelled")).reason == Reason.CANCELLED_BY_OPERATOR


def test_a_bad_row_does_not_reach_the_policy() -> None:
    results = claims_resolver(Exploding(), strict=True).evaluate_many(
        [claim(1, context={}), claim(2, created_at=NAIVE)], as_of=AS_OF
    )
    assert [r.reason for r in results] == [Reason.MISSING_CORRELATION, Reason.NAIVE_TIMESTAMP]


def test_a_workspace_owned_type_ignores_the_environment() -> None:
    without = evaluate(run(1, "alerts.dispatch", environment_id=None, context={}))
    with_env = evaluate(run(2, "alerts.dispatch", environment_id="prod", context={}))
    odd_env = evaluate(run(3, "alerts.dispatch", environment_id=True, context={}))
    assert without.status is with_env.status is odd_env.status
    assert without.status is Actionability.INFORMATIONAL_ONLY


def test_an_int_subject_and_its_string_are_one_subject() -> None:
    failed = run(1, context={"provider_connection_id": 42})
    later = run(2, outcome="succeeded", created_at=T0 + MINUTE * 5)
    later = run(
        2, outcome="succeeded", created_at=T0 + MINUTE * 5, context={"provider_connection_id": "42"}
    )
    assert evaluate(failed, [later]).status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    healthy = state(subject="42")
    assert evaluate(failed, [], [healthy]).status is Actionability.RESOLVED_BY_CURRENT_STATE


# -- rule 5 and 6: evidence and proofs ---------------------------------------------------------


class Claimant:
    """A plugin policy that claims ``status`` with whatever proof ``pick`` chooses."""

    def __init__(self, status: Actionability, pick: Callable[[ProblemRun, Evidence], Any]) -> None:
        self.status = status
        self.pick = pick

    def plan(self, run: ProblemRun) -> Iterable[Any]:
        return (run.later_success_request, run.state_request("thing"))

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision:
        return Decision(
            status=self.status,
            reason="claimed",
            explanation="The plugin says so.",
            proof=self.pick(run, evidence),
        )


def fact(**fields: Any) -> RunFact:
    values: dict[str, Any] = {
        "run_id": 2,
        "operation_type": "claim.check",
        "workspace_id": "acme",
        "environment_id": "prod",
        "subject": "t1",
        "started_at": T0 + MINUTE * 5,
        "completed_at": T0 + MINUTE * 6,
    }
    values.update(fields)
    return RunFact(**values)


class FixedHistory:
    """A broken history port that answers every request with one fact."""

    def __init__(self, answer: RunFact) -> None:
        self.answer = answer

    def latest_successes(
        self, requests: Collection[LaterSuccessRequest], *, as_of: datetime
    ) -> Any:
        return dict.fromkeys(requests, self.answer)


def port_answer(run: ProblemRun, evidence: Evidence) -> Any:
    return evidence.later_success


def test_a_valid_later_success_proof_is_accepted() -> None:
    later = claim(2, outcome="succeeded", created_at=T0 + MINUTE * 5)
    result = claims_resolver(
        Claimant(Actionability.SUPERSEDED_BY_LATER_SUCCESS, port_answer), [later]
    ).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert result.reason == "claimed"
    assert result.proof == fact(started_at=T0 + MINUTE * 5, completed_at=T0 + MINUTE * 6)


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(fact(workspace_id="globex"), id="other workspace"),
        pytest.param(fact(environment_id="staging"), id="other environment"),
        pytest.param(fact(environment_id=None), id="no environment"),
        pytest.param(fact(subject="t2"), id="other subject"),
        pytest.param(fact(subject=None), id="no subject"),
        pytest.param(fact(operation_type="claim.unrelated"), id="type not allowed"),
        pytest.param(fact(operation_type="no.such.type"), id="unknown type"),
        pytest.param(fact(started_at=T0 + MINUTE - timedelta(seconds=1)), id="started before"),
        pytest.param(fact(started_at=NAIVE + MINUTE * 5), id="naive started_at"),
    ],
)
def test_a_run_proof_that_fails_a_check_is_overridden(forged: RunFact) -> None:
    recorder = Recorder()
    result = claims_resolver(
        Claimant(Actionability.SUPERSEDED_BY_LATER_SUCCESS, port_answer),
        history_port=FixedHistory(forged),
        recorder=recorder,
    ).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_VIOLATION
    assert result.proof is None
    [violation] = recorder.violations
    assert (violation.run_id, violation.family, violation.kind) == (1, "claims", "invalid_proof")
    assert violation.claimed is Actionability.SUPERSEDED_BY_LATER_SUCCESS


def test_an_alias_and_a_superseded_by_type_are_allowed_proofs() -> None:
    policy = Claimant(Actionability.SUPERSEDED_BY_LATER_SUCCESS, port_answer)
    for allowed in ("claim_check", "claim.other"):
        result = claims_resolver(
            policy, history_port=FixedHistory(fact(operation_type=allowed))
        ).evaluate(claim(1), as_of=AS_OF)
        assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS, allowed


def test_a_run_proof_completed_after_as_of_is_never_evidence() -> None:
    late = fact(started_at=AS_OF - MINUTE, completed_at=AS_OF + MINUTE)
    recorder = Recorder()
    result = claims_resolver(
        Claimant(Actionability.SUPERSEDED_BY_LATER_SUCCESS, lambda run, evidence: late),
        history_port=FixedHistory(late),
        recorder=recorder,
    ).evaluate(claim(1), as_of=AS_OF)
    assert result.reason == Reason.POLICY_VIOLATION
    assert [v.kind for v in recorder.violations] == ["invalid_proof"]


def test_a_fake_run_proof_the_port_never_returned_is_overridden() -> None:
    # A perfectly plausible fact, but the history holds no such run.
    result = claims_resolver(
        Claimant(Actionability.SUPERSEDED_BY_LATER_SUCCESS, lambda run, evidence: fact())
    ).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_VIOLATION


@pytest.mark.parametrize(
    "proof",
    [
        pytest.param(None, id="no proof"),
        pytest.param(state("thing", subject="t1"), id="a state for a superseded claim"),
        pytest.param("run 2 did it", id="not a fact"),
    ],
)
def test_a_superseded_claim_needs_a_run_fact(proof: Any) -> None:
    result = claims_resolver(
        Claimant(Actionability.SUPERSEDED_BY_LATER_SUCCESS, lambda run, evidence: proof)
    ).evaluate(claim(1), as_of=AS_OF)
    assert result.reason == Reason.POLICY_VIOLATION


def state_answer(run: ProblemRun, evidence: Evidence) -> Any:
    return evidence.state("thing")


def test_a_valid_state_proof_is_accepted() -> None:
    current = state("thing", subject="t1")
    result = claims_resolver(
        Claimant(Actionability.RESOLVED_BY_CURRENT_STATE, state_answer), states=[current]
    ).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.RESOLVED_BY_CURRENT_STATE
    assert result.proof == current


@pytest.mark.parametrize(
    ("current", "as_of"),
    [
        pytest.param(state("thing", subject="t1", proven_at=T0), AS_OF, id="proven before"),
        pytest.param(state("thing", subject="t1", proven_at=T0 + MINUTE), AS_OF, id="proven at"),
        pytest.param(state("thing", subject="t1"), T0 + MINUTE * 30, id="proven after as_of"),
    ],
)
def test_a_state_proof_out_of_event_order_is_overridden(
    current: StateFact, as_of: datetime
) -> None:
    recorder = Recorder()
    result = claims_resolver(
        Claimant(Actionability.RESOLVED_BY_CURRENT_STATE, lambda run, evidence: current),
        states=[current],
        recorder=recorder,
    ).evaluate(claim(1), as_of=as_of)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_VIOLATION
    assert [v.kind for v in recorder.violations] == ["invalid_proof"]


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(state("thing", subject="t2"), id="other subject"),
        pytest.param(state("thing", subject="t1", workspace_id="globex"), id="other workspace"),
        pytest.param(state("thing", subject="t1", environment_id="staging"), id="other env"),
        pytest.param(state("other_kind", subject="t1"), id="undeclared kind"),
        pytest.param(fact(), id="a run fact for a resolved claim"),
    ],
)
def test_a_state_proof_from_elsewhere_is_overridden(forged: Any) -> None:
    result = claims_resolver(
        Claimant(Actionability.RESOLVED_BY_CURRENT_STATE, lambda run, evidence: forged),
        states=[forged] if isinstance(forged, StateFact) and forged.kind == "thing" else [],
    ).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_VIOLATION


def test_a_state_source_that_answers_for_another_scope_is_caught() -> None:
    class WrongScopeSource:
        kind = "thing"

        def current_states(self, requests: Collection[Any]) -> Any:
            return {request: state("thing", subject="t9") for request in requests}

    resolver = Resolver(
        registry=plugin_registry(Claimant(Actionability.RESOLVED_BY_CURRENT_STATE, state_answer)),
        history=MemoryRunHistory(),
        states={"thing": WrongScopeSource()},
    )
    assert resolver.evaluate(claim(1), as_of=AS_OF).reason == Reason.POLICY_VIOLATION


def test_a_policy_can_only_see_its_own_requests() -> None:
    class Snooping:
        """Asks for another subject's state; the core does not fetch it."""

        def plan(self, run: ProblemRun) -> Iterable[Any]:
            return (attrs_evolve(run.state_request("thing"), subject="t2"),)

        def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
            return None

    source = CountingSource("thing", [state("thing", subject="t2")])
    resolver = Resolver(
        registry=plugin_registry(Snooping()), history=MemoryRunHistory(), states={"thing": source}
    )
    result = resolver.evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.ACTIONABLE
    assert result.reason == Reason.NO_RESOLVING_EVIDENCE
    assert source.calls == 0


def attrs_evolve(value: Any, **changes: Any) -> Any:
    import attrs

    return attrs.evolve(value, **changes)


class CountingSource(MemoryStateSource):
    def __init__(self, kind: str, facts: Iterable[StateFact] = ()) -> None:
        super().__init__(kind, facts)
        self.calls = 0

    def current_states(self, requests: Collection[Any]) -> Any:
        self.calls += 1
        return super().current_states(requests)


@pytest.mark.parametrize(
    "returned",
    [
        pytest.param("resolved", id="a string"),
        pytest.param(
            Decision(status=Actionability.NOT_TERMINAL, reason="x", explanation="x."),
            id="not terminal",
        ),
        pytest.param(
            Decision(status="not_a_status", reason="x", explanation="x."),  # type: ignore[arg-type]
            id="an unknown status string",
        ),
        pytest.param(
            Decision(status=["actionable"], reason="x", explanation="x."),  # type: ignore[arg-type]
            id="an unhashable status",
        ),
    ],
)
def test_a_policy_that_returns_no_decision_is_overridden(returned: Any) -> None:
    class Odd:
        def plan(self, run: ProblemRun) -> Iterable[Any]:
            return ()

        def decide(self, run: ProblemRun, evidence: Evidence) -> Any:
            return returned

    recorder = Recorder()
    result = claims_resolver(Odd(), recorder=recorder).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_VIOLATION
    assert [v.kind for v in recorder.violations] == ["invalid_decision"]


@pytest.mark.parametrize("status", ["superseded_by_later_success", "resolved_by_current_state"])
def test_a_status_given_as_a_plain_string_meets_the_same_proof_checks(status: str) -> None:
    # A StrEnum equals its string, so a policy reading statuses from configuration must not
    # slip past the proof checks that the enum member would meet.
    class Unproven:
        def plan(self, run: ProblemRun) -> Iterable[Any]:
            return ()

        def decide(self, run: ProblemRun, evidence: Evidence) -> Decision:
            return Decision(status=status, reason="x", explanation="Trust me.")  # type: ignore[arg-type]

    recorder = Recorder()
    result = claims_resolver(Unproven(), recorder=recorder).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_VIOLATION
    assert [v.kind for v in recorder.violations] == ["invalid_proof"]


def test_a_policy_that_returns_none_leaves_the_run_actionable() -> None:
    class Silent:
        def plan(self, run: ProblemRun) -> Iterable[Any]:
            return ()

        def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
            return None

    result = claims_resolver(Silent()).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.ACTIONABLE
    assert result.reason == Reason.NO_RESOLVING_EVIDENCE


# -- rule 7: the high-risk clamp ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "pick"),
    [
        pytest.param(Actionability.SUPERSEDED_BY_LATER_SUCCESS, port_answer, id="superseded"),
        pytest.param(Actionability.RESOLVED_BY_CURRENT_STATE, state_answer, id="resolved"),
        pytest.param(Actionability.INFORMATIONAL_ONLY, lambda r, e: None, id="informational"),
    ],
)
def test_a_high_risk_family_is_clamped_to_manual_review(
    status: Actionability, pick: Callable[[ProblemRun, Evidence], Any]
) -> None:
    later = claim(2, outcome="succeeded", created_at=T0 + MINUTE * 5)
    current = state("thing", subject="t1")
    policy = Claimant(status, pick)
    standard = claims_resolver(policy, [later], [current]).evaluate(claim(1), as_of=AS_OF)
    assert standard.status is status  # the proof is valid: only the risk class differs
    recorder = Recorder()
    high = claims_resolver(policy, [later], [current], risk=Risk.HIGH, recorder=recorder).evaluate(
        claim(1), as_of=AS_OF
    )
    assert high.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert high.reason == Reason.HIGH_RISK_REQUIRES_REVIEW
    assert high.needs_attention
    [violation] = recorder.violations
    assert violation.kind == "high_risk_clamp"
    assert violation.claimed is status


def test_a_high_risk_family_may_still_say_actionable() -> None:
    class Actionable:
        def plan(self, run: ProblemRun) -> Iterable[Any]:
            return ()

        def decide(self, run: ProblemRun, evidence: Evidence) -> Decision:
            return Decision(status=Actionability.ACTIONABLE, reason="fix_it", explanation="Fix.")

    recorder = Recorder()
    result = claims_resolver(Actionable(), risk=Risk.HIGH, recorder=recorder).evaluate(
        claim(1), as_of=AS_OF
    )
    assert (result.status, result.reason) == (Actionability.ACTIONABLE, "fix_it")
    assert recorder.violations == []


# -- rule 8: a policy that raises --------------------------------------------------------------


def test_a_policy_that_raises_in_decide_needs_manual_review() -> None:
    class DecideFails(Claimant):
        def decide(self, run: ProblemRun, evidence: Evidence) -> Decision:
            raise KeyError("boom")

    recorder = Recorder()
    policy = DecideFails(Actionability.ACTIONABLE, port_answer)
    results = claims_resolver(policy, recorder=recorder).evaluate_many(
        [claim(1), claim(2, outcome="succeeded")], as_of=AS_OF
    )
    assert results[0].status is Actionability.REQUIRES_MANUAL_REVIEW
    assert results[0].reason == Reason.POLICY_ERROR
    assert "KeyError" in results[0].explanation
    assert results[1].status is Actionability.INFORMATIONAL_ONLY
    [violation] = recorder.violations
    assert (violation.kind, violation.claimed) == ("policy_error", None)
    with pytest.raises(KeyError):
        claims_resolver(policy, strict=True).evaluate(claim(1), as_of=AS_OF)


def test_a_policy_that_raises_in_plan_needs_manual_review() -> None:
    recorder = Recorder()
    result = claims_resolver(Exploding(), recorder=recorder).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_ERROR
    assert [v.kind for v in recorder.violations] == ["policy_error"]
    with pytest.raises(RuntimeError, match="plan exploded"):
        claims_resolver(Exploding(), strict=True).evaluate(claim(1), as_of=AS_OF)


# -- programmer errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "as_of",
    [
        pytest.param(NAIVE, id="naive"),
        pytest.param("2026-11-03T09:00:00+00:00", id="a string"),
        pytest.param(None, id="None"),
    ],
)
def test_a_bad_as_of_raises_usage_error(as_of: Any) -> None:
    history = SpyHistory()
    with pytest.raises(UsageError, match="as_of"):
        resolver_with(history).evaluate_many([run(1)], as_of=as_of)
    assert history.calls == []


@pytest.mark.parametrize(
    "runs",
    [
        pytest.param([{"id": 1}], id="a mapping"),
        pytest.param([run(1), None], id="None among runs"),
        pytest.param("runs", id="a string"),
        pytest.param(42, id="an int"),
    ],
)
def test_runs_that_are_not_operation_runs_raise_usage_error(runs: Any) -> None:
    with pytest.raises(UsageError):
        resolver().evaluate_many(runs, as_of=AS_OF)


def test_usage_errors_are_type_errors_and_library_errors() -> None:
    from runactionability import RunActionabilityError

    with pytest.raises(TypeError):
        resolver().evaluate_many([object()], as_of=AS_OF)  # type: ignore[list-item]
    with pytest.raises(RunActionabilityError):
        resolver().evaluate_many([run(1), run(1)], as_of=AS_OF)


@pytest.mark.parametrize("bad_id", [None, True, 1.5, b"1"])
def test_a_run_without_a_usable_id_cannot_be_built(bad_id: Any) -> None:
    with pytest.raises(TypeError):
        run(bad_id)


def test_runs_may_be_any_iterable() -> None:
    runs = [run(1), run(2, outcome="succeeded")]
    from_generator = resolver().evaluate_many((r for r in runs), as_of=AS_OF)
    assert from_generator == resolver().evaluate_many(runs, as_of=AS_OF)


# -- results carry their context ---------------------------------------------------------------


def test_every_result_carries_as_of_family_and_canonical_type() -> None:
    result = evaluate(run(1, "provider_connection.check"))
    assert result.as_of == AS_OF
    assert result.family == "provider_connection"
    assert result.operation_type == "provider.connection.check"
    assert result.status is Actionability.ACTIONABLE
    assert result.reason == Reason.NO_RESOLVING_EVIDENCE
    assert result.primary_action is not None
    assert result.primary_action.target_kind == "provider_connection"
    assert result.primary_action.target_id == "7"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(fact(completed_at=NAIVE + MINUTE * 6), id="naive completed_at"),
        pytest.param({"run_id": 2}, id="not a fact"),
        pytest.param(None, id="None"),
    ],
)
def test_a_malformed_port_answer_is_no_evidence(answer: Any) -> None:
    result = claims_resolver(
        Claimant(Actionability.SUPERSEDED_BY_LATER_SUCCESS, port_answer),
        history_port=FixedHistory(answer),
    ).evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_VIOLATION


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(state("thing", subject="t1", proven_at=NAIVE + MINUTE * 30), id="naive"),
        pytest.param("healthy", id="not a fact"),
    ],
)
def test_a_malformed_state_answer_is_no_evidence(answer: Any) -> None:
    class Source:
        kind = "thing"

        def current_states(self, requests: Collection[Any]) -> Any:
            return dict.fromkeys(requests, answer)

    resolver = Resolver(
        registry=plugin_registry(Claimant(Actionability.RESOLVED_BY_CURRENT_STATE, state_answer)),
        history=MemoryRunHistory(),
        states={"thing": Source()},
    )
    result = resolver.evaluate(claim(1), as_of=AS_OF)
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.POLICY_VIOLATION
