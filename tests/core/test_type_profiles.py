"""Each type's class, derived from its family's rules and shown by the catalog (issue 9, item 4)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from runactionability import (
    ActionKind,
    AlwaysInformational,
    AlwaysManualReview,
    Decision,
    Evidence,
    Family,
    FirstDecisive,
    InformationalWhen,
    InventoryEntry,
    OpenRelatedAction,
    OperationCatalog,
    OperationType,
    PolicyDescription,
    ProblemRun,
    Registry,
    ResolvedByState,
    Resolver,
    ResolvingStates,
    RetryAction,
    Risk,
    RuleDescription,
    RunOutcome,
    StateResolution,
    SupersededByLaterSuccess,
    TypeClass,
    TypeProfile,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.demo import Size, generate
from runactionability.evidence import EvidenceRequest
from runactionability.result import Actionability

A = TypeClass.ACTIONABLE
REVIEW = TypeClass.MANUAL_REVIEW
SUPERSEDED = TypeClass.SUPERSEDED_CAPABLE
RESOLVED = TypeClass.RESOLVED_CAPABLE
INFO = TypeClass.INFORMATIONAL_ONLY

REGISTRY = Registry.default(entry_points=False)
CATALOG = REGISTRY.catalog()
FAMILIES = REGISTRY.families()
TYPE = OperationType(name="report.build", family="reports", label="Report build")

# The reference catalog's types, the classes their built-in families give them, what resolves
# them and the retry label: written here by hand once, to check the derivation against.
EXPECTED: dict[str, tuple[set[TypeClass], dict[str, set[str]], str | None]] = {
    "alerts.dispatch": ({INFO}, {}, None),
    "notifications.send": ({INFO}, {}, None),
    "backup.create": ({SUPERSEDED, RESOLVED, A}, {"backup_set": {"complete"}}, None),
    "baseline.capture": ({SUPERSEDED, RESOLVED, A}, {"baseline_snapshot": {"complete"}}, None),
    "baseline.compare": ({SUPERSEDED, A}, {}, None),
    "directory.sync": ({SUPERSEDED, A}, {}, "Retry the directory sync"),
    "inventory.sync": ({SUPERSEDED, A}, {}, "Retry the inventory sync"),
    "policy.sync": ({SUPERSEDED, A}, {}, "Retry the policy sync"),
    "environment.destroy": ({REVIEW}, {}, None),
    "promotion.execute": ({REVIEW}, {}, None),
    "restore.execute": ({REVIEW}, {}, None),
    "evidence.snapshot.generate": (
        {SUPERSEDED, RESOLVED, A},
        {"evidence_snapshot": {"complete"}},
        "Retry the evidence snapshot generation",
    ),
    "review.environment.generate": (
        {SUPERSEDED, RESOLVED, A},
        {"environment_review": {"complete"}},
        "Retry the environment review generation",
    ),
    "review_pack.generate": (
        {SUPERSEDED, RESOLVED, A},
        {"review_pack": {"published"}},
        "Retry the review pack generation",
    ),
    "provider.connection.check": (
        {SUPERSEDED, RESOLVED, A},
        {"provider_connection": {"healthy"}},
        None,
    ),
    "provider.connection.authorize": (
        {SUPERSEDED, RESOLVED, A},
        {"provider_connection": {"healthy"}},
        None,
    ),
}


def profile(family: Family, op_type: OperationType = TYPE) -> TypeProfile:
    return family.profile(op_type)


def test_every_reference_type_has_the_class_its_rules_give_it() -> None:
    assert set(EXPECTED) == {t.name for t in CATALOG.inventory()}
    for entry in CATALOG.inventory(FAMILIES):
        assert isinstance(entry, InventoryEntry)
        assert entry.profile is not None, entry.name
        classes, resolving, retry = EXPECTED[entry.name]
        assert set(entry.profile.classes) == classes, entry.name
        assert {s.kind: set(s.statuses) for s in entry.profile.resolving} == resolving
        assert entry.profile.retry_label == retry, entry.name
        assert entry.profile.described
        assert entry.profile == FAMILIES[entry.family].profile(entry.type, CATALOG)


def test_the_catalog_shows_classes_only_when_given_the_families() -> None:
    plain = CATALOG.inventory()
    assert all(isinstance(t, OperationType) for t in plain)
    joined = CATALOG.inventory(FAMILIES)
    assert [e.type for e in joined] == list(plain)
    catalog = OperationCatalog([*plain, OperationType(name="orphan.run", family="orphans")])
    (orphan,) = [e for e in catalog.inventory(FAMILIES) if e.name == "orphan.run"]
    assert orphan.profile is None
    assert not orphan.covered
    assert orphan.describe() == "no family registered"


def test_superseding_types_are_canonical_own_first() -> None:
    authorize = CATALOG["provider.connection.authorize"]
    family = FAMILIES["provider_connection"]
    assert family.profile(authorize, CATALOG).superseding_types == (
        "provider.connection.authorize",
        "provider.connection.check",
    )
    check = CATALOG["provider.connection.check"]
    assert family.profile(check, CATALOG).superseding_types == ("provider.connection.check",)


def test_describe_is_one_short_line() -> None:
    sync = FAMILIES["repeatable_sync"].profile(CATALOG["inventory.sync"], CATALOG)
    assert sync.describe() == "superseded-capable, actionable (retry), informational when cancelled"
    check = FAMILIES["provider_connection"].profile(CATALOG["provider.connection.check"])
    assert check.describe() == (
        "superseded-capable, resolved-by-current-state-capable (provider_connection: healthy), "
        "actionable (open_related), informational when cancelled"
    )
    assert FAMILIES["high_risk"].profile(CATALOG["restore.execute"]).describe() == "manual-review"


@pytest.mark.parametrize(
    ("rules", "classes"),
    [
        ((SupersededByLaterSuccess(),), {SUPERSEDED, A}),
        ((AlwaysManualReview(),), {REVIEW}),
        ((AlwaysInformational(), SupersededByLaterSuccess()), {INFO}),
        ((SupersededByLaterSuccess(), AlwaysInformational()), {SUPERSEDED, INFO}),
        ((InformationalWhen({RunOutcome.CANCELLED}),), {A}),
        ((), {A}),
    ],
)
def test_classes_follow_the_rules_in_order(
    rules: tuple[object, ...], classes: set[TypeClass]
) -> None:
    family = Family(name="reports", policy=FirstDecisive(rules=rules))  # type: ignore[arg-type]
    assert set(profile(family).classes) == classes


def test_a_state_rule_counts_only_for_a_declared_status_of_an_asked_kind_and_its_types() -> None:
    rule = ResolvedByState("report", {"fresh", "stale"})
    asked = Family(name="reports", policy=FirstDecisive(rules=(rule,)), state_kinds="report")
    assert profile(asked).resolving == (StateResolution("report", {"fresh", "stale"}),)
    narrowed = Family(
        name="reports",
        policy=FirstDecisive(rules=(rule,)),
        state_kinds="report",
        resolving_states=(ResolvingStates("report", {"fresh"}),),
    )
    assert profile(narrowed).resolving == (StateResolution("report", {"fresh"}),)
    # A kind the family never asks for has no source, so it never resolves.
    unasked = Family(name="reports", policy=FirstDecisive(rules=(rule,)))
    assert RESOLVED not in profile(unasked).classes
    other_type = Family(
        name="reports",
        policy=FirstDecisive(rules=(ResolvedByState("report", {"fresh"}, types={"x.y"}),)),
        state_kinds="report",
    )
    assert RESOLVED not in profile(other_type).classes
    assert profile(other_type).steps == ()


def test_the_fallback_and_its_retry_label() -> None:
    retry = Family(name="reports", policy=FirstDecisive(rules=(), action=RetryAction()))
    assert profile(retry).fallback is ActionKind.RETRY
    assert profile(retry).retry_label == "Retry the report build"
    assert profile(retry).retryable
    related = Family(
        name="reports", policy=FirstDecisive(rules=(), action=OpenRelatedAction("report", "Open"))
    )
    assert profile(related).fallback is ActionKind.OPEN_RELATED
    assert profile(related).retry_label is None
    unreachable = Family(
        name="reports", policy=FirstDecisive(rules=(AlwaysManualReview(),), action=RetryAction())
    )
    assert profile(unreachable).fallback is None
    assert not profile(unreachable).retryable
    high = Family(name="reports", policy=FirstDecisive(rules=()), risk=Risk.HIGH)
    assert profile(high).classes == (REVIEW,)
    assert profile(high).high_risk


class OwnPolicy:
    """A third-party policy that says nothing about itself."""

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return (run.later_success_request,)

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        return None


class Quota:
    """A third-party rule that describes itself."""

    def describe(self) -> RuleDescription:
        return RuleDescription(
            rule="Quota",
            status=Actionability.RESOLVED_BY_CURRENT_STATE,
            states=(StateResolution("quota", {"fresh"}),),
        )

    def plan(self, run: ProblemRun) -> Iterable[EvidenceRequest]:
        return (run.state_request("quota"),)

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        return None


class Silent(Quota):
    """Overrides ``decide`` but inherits the description, which no longer speaks for it."""

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        return None


class Broken(Quota):
    def describe(self) -> RuleDescription:
        raise RuntimeError("no")


def test_an_undescribed_policy_is_only_actionable_and_claims_nothing() -> None:
    family = Family(
        name="reports",
        policy=OwnPolicy(),
        state_kinds="quota",
        resolving_states=(ResolvingStates("quota", {"fresh"}),),
    )
    undescribed = profile(family)
    assert undescribed.classes == (A,)
    assert undescribed.steps is None
    assert not undescribed.described
    assert undescribed.superseding_types == ()
    assert undescribed.resolving == ()
    assert undescribed.retry_label is None
    assert undescribed.describe() == "actionable, policy not described"
    assert family.policy_description() == PolicyDescription()


def test_a_plugin_rule_is_read_by_its_description_and_a_stale_one_claims_nothing() -> None:
    def family(rule: object) -> Family:
        return Family(
            name="reports",
            policy=FirstDecisive(rules=(rule, SupersededByLaterSuccess())),  # type: ignore[arg-type]
            state_kinds="quota",
            resolving_states=(ResolvingStates("quota", {"fresh"}),),
        )

    described = profile(family(Quota()))
    assert set(described.classes) == {SUPERSEDED, RESOLVED, A}
    assert described.resolving == (StateResolution("quota", {"fresh"}),)
    for rule in (Silent(), Broken(), object()):
        stale = profile(family(rule))
        assert set(stale.classes) == {SUPERSEDED, A}, rule
        assert stale.steps is not None
        assert not stale.steps[0].described
        assert stale.steps[0].rule == type(rule).__name__
        assert not stale.described


def test_the_profile_bounds_what_the_resolver_decides() -> None:
    # Derived from the rules, not written by hand: over the demo history every problem run's
    # status is one its type's profile allows (cancelled runs aside, which are informational).
    data = generate(Size.SMALL)
    kinds = {fact.kind for fact in data.states}
    resolver = Resolver(
        history=MemoryRunHistory(data.runs),
        registry=REGISTRY,
        states={k: MemoryStateSource(k, [f for f in data.states if f.kind == k]) for k in kinds},
    )
    allowed = {
        TypeClass.ACTIONABLE: Actionability.ACTIONABLE,
        TypeClass.MANUAL_REVIEW: Actionability.REQUIRES_MANUAL_REVIEW,
        TypeClass.SUPERSEDED_CAPABLE: Actionability.SUPERSEDED_BY_LATER_SUCCESS,
        TypeClass.RESOLVED_CAPABLE: Actionability.RESOLVED_BY_CURRENT_STATE,
        TypeClass.INFORMATIONAL_ONLY: Actionability.INFORMATIONAL_ONLY,
    }
    seen: set[Actionability] = set()
    problems = [r for r in data.runs if r.outcome not in (None, RunOutcome.SUCCEEDED)]
    results = resolver.evaluate_many(problems, as_of=data.as_of)
    for run, result in zip(problems, results, strict=True):
        assert result.operation_type is not None
        entry = FAMILIES[result.family or ""].profile(CATALOG[result.operation_type], CATALOG)
        statuses = {allowed[c] for c in entry.classes}
        if run.outcome in entry.informational_outcomes:
            statuses.add(Actionability.INFORMATIONAL_ONLY)
        assert result.status in statuses, (run, result)
        seen.add(result.status)
    assert len(seen) == 5
