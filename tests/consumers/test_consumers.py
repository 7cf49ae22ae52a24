"""The consumer helpers, through the memory adapters: what a dashboard and a follow-up list show."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests import support
from tests.support import AS_OF, T0
from tests.support import scoped_run as run

from runactionability import (
    Actionability,
    ActionKind,
    Family,
    FirstDecisive,
    OperationRun,
    Registry,
    Resolver,
    RetryAction,
    StateFact,
    SupersededByLaterSuccess,
)
from runactionability.adapters.memory import MemoryRunHistory, MemoryRunSource, MemoryStateSource
from runactionability.consumers import (
    ActiveRuns,
    KnownResults,
    View,
    VisibleScopes,
    assess,
    current_follow_up,
    dashboard,
    explain,
    history,
    is_repeatable,
    list_assessed,
    summarize,
)
from runactionability.errors import UsageError
from runactionability.i18n import english_renderer
from runactionability.policies import provider_connection, repeatable_sync

KINDS = (
    "provider_connection",
    "baseline_snapshot",
    "backup_set",
    "evidence_snapshot",
    "environment_review",
    "review_pack",
)


def healthy(ws: str, env: str, connection: str, at: timedelta) -> StateFact:
    return StateFact(
        kind="provider_connection",
        workspace_id=ws,
        environment_id=env,
        subject=connection,
        status="healthy",
        proven_at=T0 + at,
    )


class World:
    """Runs and states in a visible workspace (acme) and a hidden one (umbrella)."""

    def __init__(self, runs: list[OperationRun], states: list[StateFact]) -> None:
        self.runs = runs
        self.source = MemoryRunSource(runs)
        sources = {
            kind: MemoryStateSource(kind, (s for s in states if s.kind == kind)) for kind in KINDS
        }
        self.resolver = Resolver(history=MemoryRunHistory(runs), states=sources, strict=True)

    def assess(self, scopes: VisibleScopes) -> dict[object, Any]:
        items = assess(self.resolver, self.runs, scopes=scopes, as_of=AS_OF)
        return {item.run_id: item for item in items}


@pytest.fixture
def world() -> World:
    hours = timedelta(hours=1)
    runs = [
        # the provider loop: blocked check, connection proven healthy later, no new check
        run(1, "provider.connection.check", outcome="blocked", provider_connection_id=7),
        # a sync that failed then succeeded
        run(2, "inventory.sync"),
        run(3, "inventory.sync", outcome="succeeded", at=2 * hours),
        # a sync that failed, with a retry queued right now
        run(4, "directory.sync"),
        run(5, "directory.sync", status="queued", at=5 * hours),
        # a policy sync that failed, nothing since: retry
        run(6, "policy.sync"),
        # a failed restore followed by a success: still manual review
        run(8, "restore.execute", backup_set_id=3),
        run(9, "restore.execute", outcome="succeeded", at=hours, backup_set_id=3),
        # a notification that failed: history only
        run(10, "notifications.send", env=None),
        # a running backup
        run(11, "backup.create", status="running", at=6 * hours, backup_schedule_id=1),
        # a failed backup of the same schedule, nothing since: open the schedule
        run(12, "backup.create", backup_schedule_id=2),
        # staging: a failed policy sync, superseded in staging only
        run(13, "policy.sync", env="staging"),
        run(14, "policy.sync", env="staging", outcome="succeeded", at=hours),
        # hidden workspace: a failure, a success of acme's failed type, an active directory sync
        run(20, "policy.sync", ws="umbrella"),
        run(21, "policy.sync", ws="umbrella", outcome="succeeded", at=hours),
        run(22, "directory.sync", ws="umbrella", status="running", at=hours),
        run(
            23,
            "provider.connection.check",
            ws="umbrella",
            outcome="blocked",
            provider_connection_id=7,
        ),
    ]
    states = [healthy("acme", "prod", "7", 2 * hours)]
    return World(runs, states)


ACME = VisibleScopes({"acme"})


def test_each_headline_case_gets_its_status_and_primary_action(world: World) -> None:
    items = world.assess(ACME)
    loop = items[1]
    assert loop.status is Actionability.RESOLVED_BY_CURRENT_STATE
    assert loop.primary_action is not None
    assert (loop.primary_action.kind, loop.primary_action.target_kind) == (
        ActionKind.VIEW_STATE,
        "provider_connection",
    )
    assert loop.primary_action.target_id == "7"
    superseded = items[2]
    assert superseded.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
    assert superseded.primary_action is not None
    assert superseded.primary_action.target_id == "3"
    restore = items[8]
    assert restore.status is Actionability.REQUIRES_MANUAL_REVIEW
    assert restore.eligible_actions == {ActionKind.REVIEW}
    retry = items[6]
    assert retry.status is Actionability.ACTIONABLE
    assert retry.eligible_actions == {ActionKind.RETRY}
    backup = items[12]
    assert backup.primary_action is not None
    assert (backup.primary_action.kind, backup.primary_action.target_kind) == (
        ActionKind.OPEN_RELATED,
        "backup_schedule",
    )
    assert backup.primary_action.target_id == "2"
    assert items[10].status is Actionability.INFORMATIONAL_ONLY
    assert items[10].primary_action is None


def test_retry_waits_for_the_same_work_already_queued(world: World) -> None:
    blocked = world.assess(ACME)[4]
    assert blocked.status is Actionability.ACTIONABLE
    assert not blocked.allows(ActionKind.RETRY)
    assert blocked.active_run_id == 5
    assert blocked.primary_action is not None
    assert blocked.primary_action.kind is ActionKind.VIEW_ACTIVE_RUN
    assert blocked.primary_action.target_id == "5"


def test_active_work_in_another_environment_or_of_another_subject_does_not_block() -> None:
    runs = [
        run(1, "directory.sync"),
        run(2, "directory.sync", env="staging", status="running"),
        run(3, "backup.create", backup_schedule_id=1),
        run(4, "backup.create", backup_schedule_id=2, status="running"),
        run(5, "inventory.sync"),
        run(6, "inventory_sync", status="queued"),  # an alias is the same type
    ]
    items = World(runs, []).assess(ACME)
    assert items[1].allows(ActionKind.RETRY)
    assert items[3].primary_action is not None
    assert items[3].primary_action.kind is ActionKind.OPEN_RELATED
    assert items[5].active_run_id == 6


def test_a_queued_run_in_a_hidden_scope_never_blocks_or_is_named() -> None:
    runs = [run(1, "notifications.send", env=None), run(2, "directory.sync")]
    runs += [run(3, "directory.sync", ws="umbrella", status="queued")]
    items = World(runs, []).assess(ACME)
    assert items[2].allows(ActionKind.RETRY)
    assert items[2].active_run_id is None


def test_repeatable_families_are_read_from_the_policy_not_from_names() -> None:
    families = Registry.default().families()
    repeatable = {name for name, family in families.items() if is_repeatable(family)}
    assert repeatable == {"repeatable_sync", "artifact"}
    assert not is_repeatable(provider_connection.FAMILY)
    assert is_repeatable(repeatable_sync.FAMILY)
    plugin = Family(
        name="reports",
        policy=FirstDecisive(rules=(SupersededByLaterSuccess(),), action=RetryAction()),
    )
    assert is_repeatable(plugin)


def test_dashboard_counts_lists_and_actions_agree(world: World) -> None:
    summary = dashboard(world.source, world.resolver, scopes=ACME, as_of=AS_OF, top=50)
    counts = summary.counts
    assert counts.total == 13
    assert counts.by_status[Actionability.ACTIONABLE] == 3  # runs 4, 6 and 12
    assert counts.by_status[Actionability.REQUIRES_MANUAL_REVIEW] == 1  # the restore
    assert counts.by_status[Actionability.NOT_TERMINAL] == 2
    assert summary.needs_attention == 4
    assert sum(c.needs_attention for c in summary.by_family.values()) == 4
    assert sum(c.needs_attention for c in summary.by_environment.values()) == 4
    assert sum(c.total for c in summary.by_environment.values()) == counts.total
    assert set(summary.by_environment) == {("acme", "prod"), ("acme", "staging"), ("acme", None)}
    assert summary.by_family["repeatable_sync"].needs_attention == 2
    assert sorted(item.run_id for item in summary.top) == [4, 6, 8, 12]
    assert all(item.primary_action is not None and item.result.explanation for item in summary.top)
    assert (summary.active.queued, summary.active.running) == (1, 1)
    assert dict(summary.active.by_type) == {"backup.create": 1, "directory.sync": 1}
    assert not any(item.needs_attention for item in summary.active.newest)


def test_top_is_limited_and_newest_first(world: World) -> None:
    summary = dashboard(world.source, world.resolver, scopes=ACME, as_of=AS_OF, top=2)
    assert [item.run_id for item in summary.top] == [12, 8]


def test_nothing_from_a_hidden_workspace_is_counted_listed_or_named(world: World) -> None:
    summary = dashboard(world.source, world.resolver, scopes=ACME, as_of=AS_OF, top=50)
    shown = {item.run_id for item in summary.top} | {i.run_id for i in summary.active.newest}
    assert not shown & {20, 21, 22, 23}
    assert all(key[0] == "acme" for key in summary.by_environment)
    # the acme policy sync stays actionable although umbrella's succeeded later
    assert world.assess(ACME)[6].status is Actionability.ACTIONABLE
    # a caller that hands hidden runs to summarize still gets only visible ones counted
    everything = assess(
        world.resolver, world.runs, scopes=VisibleScopes({"acme", "umbrella"}), as_of=AS_OF
    )
    assert summarize(everything, scopes=ACME, as_of=AS_OF).counts.total == 13


def test_environment_scopes_narrow_within_a_workspace(world: World) -> None:
    prod = VisibleScopes({"acme"}, environment_ids={"prod"}, include_workspace_runs=False)
    summary = dashboard(world.source, world.resolver, scopes=prod, as_of=AS_OF)
    assert set(summary.by_environment) == {("acme", "prod")}
    assert summary.counts.total == 10


def test_a_proof_in_a_hidden_environment_is_no_evidence() -> None:
    # A workspace-owned type is scoped by workspace alone, so its proof may carry an environment
    # the actor cannot see. Issue 8 ruling: for that actor the hidden run does not exist, so the
    # failure keeps the status it has without it (it needs attention) and nothing hints at it.
    runs = [
        run(1, "review_pack.generate", env=None, review_pack_id=4),
        run(
            2,
            "review_pack.generate",
            env="secret",
            outcome="succeeded",
            at=timedelta(hours=1),
            review_pack_id=4,
        ),
    ]
    world = World(runs, [])
    assert world.assess(VisibleScopes({"acme"}))[1].result.proof is not None
    narrow = world.assess(VisibleScopes({"acme"}, environment_ids={"prod"}))
    assert set(narrow) == {1}
    item = narrow[1]
    assert item.status is Actionability.ACTIONABLE
    assert item.needs_attention
    assert item.result.proof is None
    assert item.primary_action is not None
    assert item.primary_action.target_id == "1"
    assert "visible" not in item.result.explanation
    # exactly what the actor would be told if the hidden run were not stored at all
    alone = World(runs[:1], []).assess(VisibleScopes({"acme"}, environment_ids={"prod"}))[1]
    assert item.result == alone.result
    assert item.primary_action == alone.primary_action


def test_follow_up_and_history_split_every_terminal_run(world: World) -> None:
    items = list(world.assess(ACME).values())
    follow_up, past = current_follow_up(items), history(items)
    assert {i.run_id for i in follow_up} == {4, 6, 8, 12}
    assert not {i.run_id for i in follow_up} & {i.run_id for i in past}
    assert len(follow_up) + len(past) + sum(i.is_active for i in items) == len(items)
    results = [item.result for item in items]
    assert [r.run_id for r in current_follow_up(results)] == [i.run_id for i in follow_up]


@pytest.mark.parametrize("view", list(View))
@pytest.mark.parametrize("limit", [1, 2, 5])
def test_listing_pages_cover_the_filtered_runs_once(world: World, view: View, limit: int) -> None:
    seen: list[object] = []
    cursor = None
    while True:
        page = list_assessed(
            world.source,
            world.resolver,
            scopes=ACME,
            as_of=AS_OF,
            view=view,
            limit=limit,
            cursor=cursor,
        )
        assert len(page.items) <= limit
        seen += [item.run_id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = [
        item.run_id
        for item in list_assessed(
            world.source, world.resolver, scopes=ACME, as_of=AS_OF, limit=100
        ).items
        if view.keeps(item.status)
    ]
    assert seen == expected
    assert not set(seen) & {20, 21, 22, 23}


def test_a_listed_retry_is_blocked_by_a_queued_run_on_another_page(world: World) -> None:
    first = list_assessed(
        world.source,
        world.resolver,
        scopes=ACME,
        as_of=AS_OF,
        view=View.CURRENT_FOLLOW_UP,
        limit=10,
    )
    by_id = {item.run_id: item for item in first.items}
    assert by_id[4].active_run_id == 5


def test_explain_names_the_evidence_that_would_change_an_open_provider_check() -> None:
    runs = [run(1, "provider.connection.check", outcome="blocked", provider_connection_id=7)]
    world = World(runs, [])
    active = ActiveRuns(runs, catalog=world.resolver.catalog, scopes=ACME)
    told = explain(
        world.resolver, runs[0], scopes=ACME, as_of=AS_OF, active=active, state_kinds=KINDS
    )
    assert told.assessment.status is Actionability.ACTIONABLE
    assert told.plugin == "runactionability.provider_connection"
    completed = english_renderer().instant(runs[0].completed_at)
    assert [str(line) for line in told.would_change] == [
        "A later successful provider connection check of provider connection 7 in environment "
        f"prod of workspace acme, started at or after {completed} and completed by the "
        "evaluation time.",
        "The provider connection state of provider connection 7 in environment prod of "
        f"workspace acme being healthy, proven after {completed}.",
    ]
    assert [line.id for line in told.would_change] == [
        "would_change.later_success",
        "would_change.current_state",
    ]
    without_source = explain(
        world.resolver, runs[0], scopes=ACME, as_of=AS_OF, active=active, state_kinds=()
    )
    assert "no provider connection state source is configured" in str(
        without_source.would_change[1]
    )
    with pytest.raises(UsageError):
        explain(
            world.resolver,
            runs[0],
            scopes=VisibleScopes({"umbrella"}),
            as_of=AS_OF,
            active=active,
            state_kinds=KINDS,
        )


def test_visible_scopes_refuse_an_empty_workspace_set() -> None:
    with pytest.raises(UsageError):
        VisibleScopes(set())
    assert VisibleScopes({1}).admits("1", "x")


def test_known_results_answer_for_one_resolver_only() -> None:
    """A session's known results are its resolver's: another resolver (other evidence, other
    policies) would be answered with the first one's results, so it is refused."""
    failed = run(1, "inventory.sync", ws="w1", env="e1")
    fixed = run(2, "inventory.sync", ws="w1", env="e1", outcome="succeeded", at=timedelta(hours=1))
    scopes = VisibleScopes({"w1"})
    known = KnownResults(scopes=scopes, as_of=AS_OF)
    plain = support.resolver([failed])
    [first] = known.evaluate(plain, [failed], as_of=AS_OF)
    assert first.status is Actionability.ACTIONABLE
    assert known.evaluate(plain, [failed], as_of=AS_OF) == [first]
    with pytest.raises(UsageError, match="another resolver"):
        known.evaluate(support.resolver([failed, fixed]), [failed], as_of=AS_OF)
