"""A third-party family with its own rule, registered through ``hookimpl``.

A host recalculates quotas. A failed recalculation is superseded by a later successful one of the
same quota, else resolved when the quota's current record is ``fresh`` and was proven after the
failure. In a package, the plugin module would be exposed through the entry-point group
``runactionability``; here it is registered directly.

The plugin's own sentences are messages (``msg``), and it ships their German translation, and the
German names of its type and family, in its own gettext catalog
(``third_party_locale/de/LC_MESSAGES/quota.po``) through ``runactionability_message_catalogs``.

    .venv/bin/python examples/third_party_family.py
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from runactionability import (
    Actionability,
    Decision,
    Evidence,
    Family,
    FirstDecisive,
    InformationalWhen,
    MessageCatalogs,
    OpenRelatedAction,
    OperationRun,
    OperationType,
    ProblemRun,
    Registry,
    Renderer,
    Resolver,
    ResolvingStates,
    RunOutcome,
    StateFact,
    StateRequest,
    SupersededByLaterSuccess,
    hookimpl,
    msg,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class ResolvedWhenQuotaFresh:
    """Resolved when the quota's current record is ``fresh``, proven after the failure."""

    def plan(self, run: ProblemRun) -> Iterable[StateRequest]:
        return (run.state_request("quota"),)

    def decide(self, run: ProblemRun, evidence: Evidence) -> Decision | None:
        fact = evidence.state("quota")
        if fact is None or fact.status != "fresh" or fact.proven_at <= run.completed_at:
            return None
        return Decision(
            status=Actionability.RESOLVED_BY_CURRENT_STATE,
            reason="quota_fresh",
            explanation=msg(
                "quota.fresh",
                "Quota {quota} was recalculated at {proven_at}.",
                quota=str(fact.subject),
                proven_at=fact.proven_at,
            ),
            proof=fact,
        )


QUOTA = Family(
    name="quota",
    state_kinds={"quota"},
    # The core accepts a resolution only by a status the family declares: a fresh quota.
    resolving_states=(ResolvingStates("quota", {"fresh"}),),
    description="Quota recalculations: superseded by a later one, else a fresh quota record.",
    policy=FirstDecisive(
        rules=(
            InformationalWhen({RunOutcome.CANCELLED}),
            SupersededByLaterSuccess(),
            ResolvedWhenQuotaFresh(),
        ),
        action=OpenRelatedAction("quota", msg("quota.open", "Open the quota")),
    ),
)


CATALOGS = MessageCatalogs(Path(__file__).resolve().parent / "third_party_locale", "quota")
"""The plugin's own catalogs: ``<locale>/LC_MESSAGES/quota.po`` (a package would ship ``.mo``)."""


class QuotaPlugin:
    """What a plugin module would hold: the family, its operation types and its catalogs."""

    @hookimpl
    def runactionability_message_catalogs(self) -> Sequence[MessageCatalogs]:
        return (CATALOGS,)

    @hookimpl
    def runactionability_families(self) -> Sequence[Family]:
        return (QUOTA,)

    @hookimpl
    def runactionability_operation_types(self) -> Sequence[OperationType]:
        return (
            OperationType(
                name="quota.recalculate",
                family="quota",
                aliases=("quota_recalc",),
                subject_key="quota_id",
                label="Quota recalculation",
            ),
        )


def recalculation(run_id: int, outcome: str, minute: int, quota: str) -> OperationRun:
    return OperationRun(
        id=run_id,
        type="quota_recalc",
        workspace_id="acme",
        environment_id="prod",
        status="completed",
        outcome=outcome,
        created_at=T0 + timedelta(minutes=minute),
        completed_at=T0 + timedelta(minutes=minute + 2),
        context={"quota_id": quota},
    )


def main() -> None:
    registry = Registry()
    registry.register(QuotaPlugin(), name="quota")
    runs = [
        recalculation(1, "failed", 0, "q-1"),
        recalculation(2, "succeeded", 10, "q-1"),
        recalculation(3, "failed", 0, "q-2"),
        recalculation(4, "failed", 0, "q-3"),
    ]
    fresh = StateFact(
        kind="quota",
        workspace_id="acme",
        environment_id="prod",
        subject="q-2",
        status="fresh",
        proven_at=T0 + timedelta(minutes=30),
    )
    resolver = Resolver(
        registry=registry,
        catalog=registry.catalog(),
        history=MemoryRunHistory(runs),
        states={"quota": MemoryStateSource("quota", [fresh])},
        strict=True,
    )
    results = resolver.evaluate_many(runs, as_of=T0 + timedelta(hours=1))
    for result in results:
        print(f"run {result.run_id}: {result.status.value} ({result.reason}) {result.explanation}")
    # The same results in German, in Berlin time: the plugin's catalog translates its messages.
    german = Renderer("de", time_zone="Europe/Berlin", catalogs=registry.message_catalogs())
    for result in results:
        print(f"Lauf {result.run_id}: {german.render(result.message)}")
    assert [r.status for r in results] == [
        Actionability.SUPERSEDED_BY_LATER_SUCCESS,
        Actionability.INFORMATIONAL_ONLY,
        Actionability.RESOLVED_BY_CURRENT_STATE,
        Actionability.ACTIONABLE,
    ]


if __name__ == "__main__":
    main()
