"""The built-in families, through the resolver, as a host would see them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.support import AS_OF, MINUTE, T0, evaluate, resolver, run, state

from runactionability import (
    Actionability,
    ActionKind,
    OperationCatalog,
    OperationRun,
    Reason,
    RunFact,
)

LATER = T0 + MINUTE * 10


def success(run_id: int, type: str = "provider.connection.check", **fields: Any) -> OperationRun:
    fields.setdefault("created_at", LATER)
    return run(run_id, type, outcome="succeeded", **fields)


# -- provider connections: the original false call-to-action loop -----------------------------


def test_a_failed_check_stays_actionable_without_evidence() -> None:
    result = evaluate(run(1, outcome="blocked"))
    assert result.status is Actionability.ACTIONABLE
    assert result.needs_attention
    assert result.primary_action is not None
    assert result.primary_action.kind is ActionKind.OPEN_RELATED
    assert result.primary_action.label == "Fix the provider connection"


@pytest.mark.parametrize("failed_type", ["provider.connection.check", "provider_connection.check"])
@pytest.mark.parametrize("later_type", ["provider.connection.check", "provider_connection.check"])
def test_a_later_successful_check_supersedes_under_either_name(
    failed_type: str, later_type: str
) -> None:
    later = success(2, later_type)
    result = evaluate(run(1, failed_type), [later])
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert result.reason == Reason.LATER_SUCCESS
    assert result.operation_type == "provider.connection.check"
    assert isinstance(result.proof, RunFact)
    assert result.proof.run_id == 2
    assert result.proof.operation_type == later_type
    assert result.primary_action is not None
    assert (result.primary_action.kind, result.primary_action.target_id) == (
        ActionKind.VIEW_RUN,
        "2",
    )


def test_the_healthy_connection_resolves_the_loop() -> None:
    result = evaluate(run(1), [], [state()])
    assert result.status is Actionability.RESOLVED_BY_CURRENT_STATE
    assert result.reason == Reason.CURRENT_STATE_HEALTHY
    assert result.proof == state()
    assert not result.needs_attention


def test_a_later_check_is_preferred_to_the_state() -> None:
    result = evaluate(run(1), [success(2)], [state()])
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS


@pytest.mark.parametrize("status", ["degraded", "failed", "unknown"])
def test_an_unhealthy_connection_resolves_nothing(status: str) -> None:
    assert evaluate(run(1), [], [state(status=status)]).status is Actionability.ACTIONABLE


def test_a_success_of_another_connection_supersedes_nothing() -> None:
    other = success(2, context={"provider_connection_id": 8})
    assert evaluate(run(1), [other], [state(subject="8")]).status is Actionability.ACTIONABLE


def test_an_authorization_is_superseded_by_a_later_check() -> None:
    failed = run(1, "provider.connection.authorize")
    result = evaluate(failed, [success(2, "provider_connection.check")])
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert result.operation_type == "provider.connection.authorize"


def test_a_check_is_not_superseded_by_a_later_authorization() -> None:
    result = evaluate(run(1), [success(2, "provider.connection.authorize")])
    assert result.status is Actionability.ACTIONABLE


def test_a_success_started_exactly_when_the_failure_completed_supersedes() -> None:
    failed = run(1)
    assert failed.completed_at == T0 + MINUTE
    result = evaluate(failed, [success(2, created_at=T0 + MINUTE)])
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS


def test_a_success_started_before_the_failure_completed_does_not_supersede() -> None:
    # It overlapped the failure: it says nothing about whether the failure is fixed.
    overlapping = success(2, created_at=T0, completed_at=T0 + MINUTE * 20)
    assert evaluate(run(1), [overlapping]).status is Actionability.ACTIONABLE


def test_started_at_is_the_event_start_when_recorded() -> None:
    queued_early = success(2, created_at=T0, started_at=T0 + MINUTE * 2)
    result = evaluate(run(1), [queued_early])
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS


def test_state_proven_exactly_at_the_failures_completion_does_not_resolve() -> None:
    assert evaluate(run(1), [], [state(proven_at=T0 + MINUTE)]).status is Actionability.ACTIONABLE
    after = state(proven_at=T0 + MINUTE + timedelta(microseconds=1))
    assert evaluate(run(1), [], [after]).status is Actionability.RESOLVED_BY_CURRENT_STATE


def test_evidence_after_as_of_is_not_evidence() -> None:
    as_of = T0 + MINUTE * 30
    late_success = success(2, created_at=T0 + MINUTE * 20, completed_at=T0 + MINUTE * 31)
    late_state = state(proven_at=T0 + MINUTE * 31)
    result = evaluate(run(1), [late_success], [late_state], as_of=as_of)
    assert result.status is Actionability.ACTIONABLE
    # The run itself is judged as recorded, even if it completed after as_of.
    assert evaluate(run(3, created_at=as_of), as_of=as_of).status is Actionability.ACTIONABLE


def test_a_failure_in_one_workspace_beside_a_success_in_another_still_needs_attention() -> None:
    other_workspace = success(2, workspace_id="globex")
    other_environment = success(3, environment_id="staging")
    elsewhere = [state(workspace_id="globex"), state(environment_id="staging")]
    result = evaluate(run(1), [other_workspace, other_environment], elsewhere)
    assert result.status is Actionability.ACTIONABLE
    assert result.needs_attention


def test_workspace_ids_compare_as_strings() -> None:
    failed = run(1, workspace_id=5)
    assert evaluate(failed, [success(2, workspace_id="5")]).status is (
        Actionability.SUPERSEDED_BY_LATER_SUCCESS
    )


# -- cancelled runs ----------------------------------------------------------------------------

STANDARD = [
    ("provider.connection.check", {"provider_connection_id": 7}),
    ("inventory.sync", {}),
    ("baseline.capture", {"baseline_profile_id": 3}),
    ("evidence.snapshot.generate", {}),
    ("review_pack.generate", {"review_pack_id": 9}),
    ("backup.create", {"backup_schedule_id": 4}),
]
HIGH_RISK = [
    ("restore.execute", {"backup_set_id": 11}),
    ("promotion.execute", {}),
    ("environment.destroy", {}),
]


@pytest.mark.parametrize(("type", "context"), STANDARD)
def test_a_cancelled_run_of_a_standard_family_is_informational(
    type: str, context: dict[str, Any]
) -> None:
    result = evaluate(run(1, type, outcome="cancelled", context=context))
    assert result.status is Actionability.INFORMATIONAL_ONLY
    assert result.reason == Reason.CANCELLED_BY_OPERATOR


@pytest.mark.parametrize(("type", "context"), HIGH_RISK)
@pytest.mark.parametrize("outcome", ["cancelled", "failed", "blocked", "partially_succeeded"])
def test_a_high_risk_problem_run_stays_in_manual_review(
    type: str, context: dict[str, Any], outcome: str
) -> None:
    failed = run(1, type, outcome=outcome, context=context)
    later = run(2, type, outcome="succeeded", created_at=LATER, context=context)
    result = evaluate(failed, [later])
    assert result.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert result.reason == Reason.ALWAYS_MANUAL_REVIEW
    assert result.family == "high_risk"
    assert result.primary_action is not None
    assert result.primary_action.kind is ActionKind.REVIEW


def test_a_succeeded_restore_is_history() -> None:
    result = evaluate(run(1, "backup.restore", outcome="succeeded", context={"backup_set_id": 1}))
    assert result.status is Actionability.INFORMATIONAL_ONLY
    assert result.operation_type == "restore.execute"


# -- repeatable syncs --------------------------------------------------------------------------


def test_a_sync_is_superseded_by_a_later_sync_of_the_same_scope() -> None:
    failed = run(1, "inventory.sync", context={})
    later = success(2, "inventory_sync", context={"anything": "else"})
    result = evaluate(failed, [later])
    assert result.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert result.family == "repeatable_sync"


def test_a_sync_is_not_superseded_by_another_sync_type_or_environment() -> None:
    failed = run(1, "inventory.sync", context={})
    others = [
        success(2, "directory.sync", context={}),
        success(3, "inventory.sync", environment_id="staging", context={}),
    ]
    result = evaluate(failed, others)
    assert result.status is Actionability.ACTIONABLE
    assert result.primary_action is not None
    assert result.primary_action.kind is ActionKind.RETRY


# -- baselines, artifacts, backups -------------------------------------------------------------


def test_a_comparison_is_superseded_only_by_a_later_comparison_of_the_same_profile() -> None:
    failed = run(1, "baseline.compare", context={"baseline_profile_id": 3})
    compared = success(2, "baseline.compare", context={"baseline_profile_id": "3"})
    other = success(3, "baseline.compare", context={"baseline_profile_id": 4})
    captured = success(4, "baseline_capture", context={"baseline_profile_id": 3})
    assert evaluate(failed, [other]).status is Actionability.ACTIONABLE
    assert evaluate(failed, [compared]).status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    # A fresh baseline does not prove a comparison ran.
    assert evaluate(failed, [captured]).status is Actionability.ACTIONABLE


def test_a_complete_snapshot_does_not_resolve_a_comparison() -> None:
    failed = run(1, "baseline.compare", context={"baseline_profile_id": 3})
    snapshot = state("baseline_snapshot", subject="3", status="complete")
    assert evaluate(failed, [], [snapshot]).status is Actionability.ACTIONABLE


def test_a_baseline_is_resolved_by_a_complete_snapshot() -> None:
    failed = run(1, "baseline.capture", context={"baseline_profile_id": 3})
    snapshot = state("baseline_snapshot", subject="3", status="complete")
    assert evaluate(failed, [], [snapshot]).status is Actionability.RESOLVED_BY_CURRENT_STATE


def test_an_artifact_is_resolved_only_by_its_own_kind_of_state() -> None:
    failed = run(1, "evidence.snapshot.generate", context={})
    own = state("evidence_snapshot", subject=None, status="complete")
    other = state("environment_review", subject=None, status="complete")
    assert evaluate(failed, [], [other]).status is Actionability.ACTIONABLE
    assert evaluate(failed, [], [own]).status is Actionability.RESOLVED_BY_CURRENT_STATE


def test_a_review_pack_is_workspace_owned() -> None:
    failed = run(1, "review_pack.generate", environment_id=None, context={"review_pack_id": 9})
    published = state("review_pack", subject="9", status="published", environment_id=None)
    result = evaluate(failed, [], [published])
    assert result.status is Actionability.RESOLVED_BY_CURRENT_STATE
    # A later success recorded against any environment of the workspace supersedes it.
    later = success(2, "review_pack.generate", environment_id="prod", context={"review_pack_id": 9})
    assert evaluate(failed, [later]).status is Actionability.SUPERSEDED_BY_LATER_SUCCESS


def test_a_backup_is_resolved_by_a_complete_backup_set_of_its_schedule() -> None:
    failed = run(1, "backup.run", context={"backup_schedule_id": 4})
    complete = state("backup_set", subject="4", status="complete")
    result = evaluate(failed, [], [complete])
    assert result.status is Actionability.RESOLVED_BY_CURRENT_STATE
    assert result.operation_type == "backup.create"


# -- informational -----------------------------------------------------------------------------


@pytest.mark.parametrize("environment_id", [None, "prod"])
@pytest.mark.parametrize("outcome", ["failed", "blocked", "partially_succeeded", "cancelled"])
def test_alert_dispatch_is_informational_and_workspace_owned(
    outcome: str, environment_id: str | None
) -> None:
    failed = run(1, "alerts.dispatch", outcome=outcome, environment_id=environment_id, context={})
    result = evaluate(failed)
    assert result.status is Actionability.INFORMATIONAL_ONLY
    assert result.reason == Reason.INFORMATIONAL_FAMILY
    assert not result.needs_attention
    assert result.family == "informational"


def test_the_reference_catalog_names_the_required_types() -> None:
    catalog = OperationCatalog.reference()
    check = catalog.resolve("provider_connection.check")
    assert check is not None
    assert (check.name, check.subject_key) == (
        "provider.connection.check",
        "provider_connection_id",
    )
    inventory = catalog["inventory.sync"]
    assert (inventory.family, inventory.subject_key) == ("repeatable_sync", None)
    assert catalog["restore.execute"].family == "high_risk"
    alerts = catalog["alerts.dispatch"]
    assert (alerts.family, alerts.workspace_owned) == ("informational", True)


def test_one_batch_mixes_every_family_without_cross_talk() -> None:
    runs = [run(i, t, context=c) for i, (t, c) in enumerate(STANDARD + HIGH_RISK, start=1)]
    runs.append(run(50, "alerts.dispatch", environment_id=None, context={}))
    results = resolver(runs).evaluate_many(runs, as_of=AS_OF)
    assert [r.run_id for r in results] == [r.id for r in runs]
    assert {r.family for r in results} == {
        "provider_connection",
        "repeatable_sync",
        "baseline",
        "artifact",
        "backup",
        "high_risk",
        "informational",
    }
