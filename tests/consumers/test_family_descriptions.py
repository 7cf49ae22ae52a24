"""Consumers read a family's description of its rules, never the rules' classes (issue 9, 6).

``explain`` and the action planner used to re-read policies with ``isinstance`` on the built-in
rules, so a subclass that changed ``decide`` was explained and retried as the built-in rule, while
the pushdown (rightly) judged it in Python. They now ask the family (``Family.profile``,
``Family.policy_description``): a subclassed rule is what its description says, and a rule whose
description no longer speaks for its code claims nothing. The retry label has one source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from tests.support import AS_OF

from runactionability import (
    Actionability,
    ActionKind,
    AlwaysManualReview,
    Decision,
    Evidence,
    Family,
    FirstDecisive,
    OperationRun,
    OperationType,
    ProblemRun,
    Registry,
    ResolvedByState,
    Resolver,
    RetryAction,
    RuleDescription,
    StateResolution,
    SupersededByLaterSuccess,
    hookimpl,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.consumers import ActiveRuns, VisibleScopes, assess, explain, is_repeatable
from runactionability.evidence import EvidenceRequest

T0 = AS_OF - timedelta(days=1)
ACME = VisibleScopes({"acme"})
REPORT = OperationType(name="report.build", family="reports", label="Report build")


class LaterSuccessIfTagged(SupersededByLaterSuccess):
    """A subclass that changed ``decide`` and did not say so: its inherited description is stale."""

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        if not run.run.context.get("tagged"):
            return None
        return super().decide(run, evidence)


class FreshReport(ResolvedByState):
    """A subclass of the state rule that describes what it really tests: only ``fresh``."""

    def describe(self) -> RuleDescription:
        return RuleDescription(
            rule="FreshReport",
            status=Actionability.RESOLVED_BY_CURRENT_STATE,
            states=(StateResolution(self.kind, {"fresh"}),),
        )

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        fact = evidence.state(self.kind)
        if fact is None or fact.status != "fresh":
            return None
        return super().decide(run, evidence)


class ReviewWhenFlagged(AlwaysManualReview):
    """Reviews only flagged runs, and says so: the retry behind it is reachable."""

    def describe(self) -> RuleDescription:
        return RuleDescription(
            rule="ReviewWhenFlagged", status=Actionability.REQUIRES_MANUAL_REVIEW
        )

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        return super().decide(run, evidence) if run.run.context.get("flagged") else None


class ActionableWithoutAction:
    """A plugin rule that decides ``actionable`` for urgent runs and names no action."""

    def describe(self) -> RuleDescription:
        return RuleDescription(rule="ActionableWithoutAction", status=Actionability.ACTIONABLE)

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return ()

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        if not run.run.context.get("urgent"):
            return None
        return Decision(
            status=Actionability.ACTIONABLE, reason="urgent", explanation="The run is urgent."
        )


def family(*rules: object, **kwargs: Any) -> Family:
    return Family(
        name="reports",
        policy=FirstDecisive(rules=rules, action=RetryAction()),  # type: ignore[arg-type]
        **kwargs,
    )


def resolver_for(reports: Family) -> Resolver:
    class Plugin:
        @hookimpl
        def runactionability_families(self) -> Sequence[Family]:
            return (reports,)

        @hookimpl
        def runactionability_operation_types(self) -> Sequence[OperationType]:
            return (REPORT,)

    registry = Registry()
    registry.register(Plugin(), name="reports")
    return Resolver(
        registry=registry,
        history=MemoryRunHistory(()),
        states={"report": MemoryStateSource("report", [])},
    )


def report_run(run_id: int, **context: Any) -> OperationRun:
    return OperationRun(
        id=run_id,
        type=REPORT.name,
        workspace_id="acme",
        environment_id="prod",
        status="completed",
        outcome="failed",
        created_at=T0,
        started_at=T0,
        completed_at=T0 + timedelta(minutes=5),
        context=context,
    )


def would_change(reports: Family, run: OperationRun) -> tuple[str, ...]:
    resolver = resolver_for(reports)
    told = explain(
        resolver,
        run,
        scopes=ACME,
        as_of=AS_OF,
        active=ActiveRuns((), catalog=resolver.catalog, scopes=ACME),
        state_kinds={"report"},
    )
    return tuple(str(line) for line in told.would_change)


def test_a_subclass_that_changed_decide_is_not_explained_as_the_built_in_rule() -> None:
    (sentence,) = would_change(family(LaterSuccessIfTagged()), report_run(1))
    assert sentence == "Whatever the reports rule LaterSuccessIfTagged accepts."
    # The built-in rule itself is still explained as a later success.
    (builtin,) = would_change(family(SupersededByLaterSuccess()), report_run(1))
    assert builtin.startswith("A later successful report build in environment prod of workspace")


def test_a_subclass_is_explained_as_its_own_description_says() -> None:
    reports = family(FreshReport("report", {"fresh", "stale"}), state_kinds="report")
    (sentence,) = would_change(reports, report_run(1))
    assert "report state in environment prod of workspace acme being fresh, proven" in sentence
    assert "stale" not in sentence
    profile = reports.profile(REPORT)
    assert profile.resolving == (StateResolution("report", {"fresh"}),)


def test_repeatable_follows_the_description_not_the_class() -> None:
    # Subclassed from AlwaysManualReview, but described as deciding only some runs: the retry
    # behind it is reachable, and the family is repeatable (isinstance said it was not).
    assert is_repeatable(family(ReviewWhenFlagged()))
    assert not is_repeatable(family(AlwaysManualReview()))

    class OtherRetry(RetryAction):
        def action(self, run: ProblemRun) -> Any:
            return None

    # A retry template whose action changed but whose description did not is no known retry.
    changed = Family(name="reports", policy=FirstDecisive(rules=(), action=OtherRetry()))
    assert not is_repeatable(changed)
    assert changed.profile(REPORT).retry_label is None


def test_retry_labels_agree_whoever_offers_the_retry() -> None:
    # Run 1 falls through to the policy's RetryAction (the core's hint); run 2 is decided
    # actionable by a rule naming no action, so the consumers offer the retry themselves.
    reports = family(ActionableWithoutAction())
    resolver = resolver_for(reports)
    items = assess(resolver, [report_run(1), report_run(2, urgent=True)], scopes=ACME, as_of=AS_OF)
    assert items[0].result.primary_action is not None
    assert items[1].result.primary_action is None
    labels = set()
    for item in items:
        assert item.primary_action is not None
        assert item.primary_action.kind is ActionKind.RETRY
        labels.add(item.primary_action.label)
    assert labels == {"Retry the report build"}
    assert reports.profile(REPORT).retry_label == "Retry the report build"
