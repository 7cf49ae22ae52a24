"""The port contracts, checked the same way over memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest
from tests.support import AS_OF, Loader, at
from tests.support import stored_fact as fact
from tests.support import stored_run as run

from runactionability import (
    Actionability,
    LaterSuccessRequest,
    Reason,
    RunOutcome,
    RunQuery,
    RunStatus,
    StateRequest,
)

CHECK = "provider.connection.check"
CHECK_NAMES = ("provider.connection.check", "provider_connection.check")
SYNC_NAMES = ("inventory.sync", "inventory_sync")


def success_request(
    names: tuple[str, ...] = SYNC_NAMES,
    *,
    workspace: str = "w1",
    environment: str | None = "e1",
    subject_key: str | None = None,
    subject: str | None = None,
) -> LaterSuccessRequest:
    return LaterSuccessRequest(
        operation_types=names,
        workspace_id=workspace,
        environment_id=environment,
        subject_key=subject_key,
        subject=subject,
    )


def check_request(subject: str, environment: str | None = "e1") -> LaterSuccessRequest:
    return success_request(
        CHECK_NAMES, environment=environment, subject_key="provider_connection_id", subject=subject
    )


def test_latest_success_is_the_greatest_event_start(load: Loader) -> None:
    ports = load(
        [
            run(1, outcome="succeeded", start=10, end=100),
            # Started later but finished earlier: event start decides, not completion.
            run(2, "inventory_sync", outcome="succeeded", start=20, end=30),
            run(3, outcome="failed", start=40, end=41),
            # No started_at: created_at is the event start.
            run(4, outcome="succeeded", start=5, end=200, started_at=None),
        ],
        [],
    )
    answer = ports.history.latest_successes([success_request()], as_of=AS_OF)
    found = answer[success_request()]
    assert (found.run_id, found.operation_type) == (2, "inventory_sync")
    assert (found.started_at, found.completed_at) == (at(20), at(30))
    assert (found.workspace_id, found.environment_id, found.subject) == ("w1", "e1", None)


def test_started_at_wins_over_created_at_as_event_start(load: Loader) -> None:
    ports = load(
        [
            run(1, outcome="succeeded", start=10, end=60, started_at=at(50)),
            run(2, outcome="succeeded", start=40, end=45),
        ],
        [],
    )
    found = ports.history.latest_successes([success_request()], as_of=AS_OF)[success_request()]
    assert (found.run_id, found.started_at) == (1, at(50))


def test_ties_break_by_completed_at_then_run_id(load: Loader) -> None:
    ports = load(
        [
            run(1, outcome="succeeded", start=10, end=30),
            run(2, outcome="succeeded", start=10, end=20),
            run(3, outcome="succeeded", start=10, end=30),
        ],
        [],
    )
    found = ports.history.latest_successes([success_request()], as_of=AS_OF)[success_request()]
    assert found.run_id == 3


def test_runs_completed_after_as_of_are_not_evidence(load: Loader) -> None:
    ports = load(
        [
            run(1, outcome="succeeded", start=10, end=20),
            run(2, outcome="succeeded", start=30, end=40),
        ],
        [],
    )
    request = success_request()
    assert ports.history.latest_successes([request], as_of=at(39))[request].run_id == 1
    assert ports.history.latest_successes([request], as_of=at(40))[request].run_id == 2
    assert ports.history.latest_successes([request], as_of=at(19)) == {}


def test_only_completed_successes_of_allowed_types_in_the_same_scope_count(load: Loader) -> None:
    ports = load(
        [
            run(1, outcome="succeeded", start=1),
            run(2, outcome="partially_succeeded", start=10),
            run(3, "directory.sync", outcome="succeeded", start=11),
            run(4, outcome="succeeded", start=12, environment_id="e2"),
            run(5, outcome="succeeded", start=13, workspace_id="w2"),
            run(6, status="running", outcome=None, start=14, completed_at=None),
        ],
        [],
    )
    request = success_request()
    assert ports.history.latest_successes([request], as_of=AS_OF)[request].run_id == 1
    other = success_request(workspace="w3")
    assert ports.history.latest_successes([request, other], as_of=AS_OF).keys() == {request}


def test_subjects_compare_as_strings(load: Loader) -> None:
    ports = load(
        [
            run(1, CHECK, outcome="succeeded", start=1, context={"provider_connection_id": 42}),
            run(2, CHECK, outcome="succeeded", start=2, context={"provider_connection_id": "43"}),
            run(3, CHECK, outcome="succeeded", start=3, context={"provider_connection_id": True}),
            run(4, CHECK, outcome="succeeded", start=4, context={}),
        ],
        [],
    )
    answers = ports.history.latest_successes(
        [check_request("42"), check_request("43"), check_request("True")], as_of=AS_OF
    )
    assert {request.subject: found.run_id for request, found in answers.items()} == {
        "42": 1,
        "43": 2,
    }
    assert answers[check_request("42")].subject == "42"


def test_workspace_owned_requests_match_any_environment(load: Loader) -> None:
    ports = load(
        [
            run(
                1,
                "review_pack.generate",
                outcome="succeeded",
                start=1,
                environment_id=None,
                context={"review_pack_id": "p1"},
            ),
            run(
                2,
                "review_pack.generate",
                outcome="succeeded",
                start=2,
                environment_id="e7",
                context={"review_pack_id": "p1"},
            ),
            run(
                3,
                "review_pack.generate",
                outcome="succeeded",
                start=3,
                workspace_id="w2",
                environment_id=None,
                context={"review_pack_id": "p1"},
            ),
        ],
        [],
    )
    request = success_request(
        ("review_pack.generate",), environment=None, subject_key="review_pack_id", subject="p1"
    )
    found = ports.history.latest_successes([request], as_of=AS_OF)[request]
    assert (found.run_id, found.environment_id) == (2, "e7")


def test_many_requests_are_answered_in_one_call(load: Loader) -> None:
    runs = [
        run(
            index,
            CHECK,
            outcome="succeeded",
            start=index,
            environment_id=f"e{index % 3}",
            context={"provider_connection_id": f"c{index % 5}"},
        )
        for index in range(1, 61)
    ]
    ports = load(runs, [])
    requests = [check_request(f"c{c}", f"e{e}") for c in range(6) for e in range(4)]
    answers = ports.history.latest_successes(requests, as_of=AS_OF)
    expected = {}
    for candidate in runs:
        # Every run above has a string environment id.
        environment = cast(str, candidate.environment_id)
        key = check_request(candidate.context["provider_connection_id"], environment)
        expected[key] = candidate.id
    assert {request: found.run_id for request, found in answers.items()} == expected


def test_state_source_returns_the_current_state_of_each_object(load: Loader) -> None:
    kind = "provider_connection"
    ports = load(
        [],
        [
            fact(kind, "c1", "failing", 10),
            fact(kind, "c1", "healthy", 20),
            fact(kind, "c1", "failing", 15),
            fact(kind, "c2", "healthy", 5, environment_id="e2"),
            fact(kind, None, "healthy", 6),
            fact("backup_set", "c1", "complete", 30),
        ],
    )
    source = ports.states[kind]
    requests = [
        StateRequest(kind=kind, workspace_id="w1", environment_id="e1", subject="c1"),
        StateRequest(kind=kind, workspace_id="w1", environment_id="e1", subject="c2"),
        StateRequest(kind=kind, workspace_id="w1", environment_id="e2", subject="c2"),
        StateRequest(kind=kind, workspace_id="w1", environment_id="e1", subject=None),
        StateRequest(kind=kind, workspace_id="w1", environment_id=None, subject="c1"),
    ]
    answers = source.current_states(requests)
    assert {r.subject: (f.status, f.proven_at) for r, f in answers.items()} == {
        "c1": ("healthy", at(20)),
        "c2": ("healthy", at(5)),
        None: ("healthy", at(6)),
    }
    assert answers[requests[2]].environment_id == "e2"


def test_state_source_returns_the_attributes_of_the_current_state(load: Loader) -> None:
    kind = "provider_connection"
    ports = load(
        [],
        [
            fact(kind, "c1", "failing", 10, attributes={"checked_by": "cron"}),
            fact(kind, "c1", "healthy", 20, attributes={"checked_by": "ops"}),
        ],
    )
    request = StateRequest(kind=kind, workspace_id="w1", environment_id="e1", subject="c1")
    found = ports.states[kind].current_states([request])[request]
    assert (found.status, dict(found.attributes)) == ("healthy", {"checked_by": "ops"})


def test_listing_filters_and_pages_newest_first(load: Loader) -> None:
    runs = [
        run(
            index,
            outcome="failed" if index % 2 else "succeeded",
            start=index,
            workspace_id="w1" if index % 3 else "w2",
            environment_id=f"e{index % 2}",
        )
        for index in range(1, 31)
    ]
    runs.append(run(31, "alerts.dispatch", start=31, environment_id=None))
    runs.append(run(32, start=32, status="queued", outcome=None, completed_at=None))
    ports = load(runs, [])
    query = RunQuery(workspace_ids={"w1"}, statuses={RunStatus.COMPLETED})
    seen: list[object] = []
    cursor = None
    while True:
        page = ports.runs.list_runs(query, limit=4, cursor=cursor)
        seen.extend(r.id for r in page.runs)
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = [r.id for r in reversed(runs) if r.workspace_id == "w1" and r.id != 32]
    assert seen == expected

    narrowed = RunQuery(
        workspace_ids={"w1", "w2"},
        environment_ids={"e1"},
        include_workspace_runs=False,
        operation_types={"inventory.sync"},
        created_from=at(10),
        created_before=at(20),
    )
    listed = ports.runs.list_runs(narrowed, limit=100)
    assert [r.id for r in listed.runs] == [19, 17, 15, 13, 11]
    assert listed.next_cursor is None
    with_workspace_runs = RunQuery(workspace_ids={"w1"}, environment_ids={"e9"})
    assert [r.id for r in ports.runs.list_runs(with_workspace_runs).runs] == [31]


def test_listing_returns_runs_as_recorded(load: Loader) -> None:
    recorded = run(
        7,
        CHECK,
        outcome="blocked",
        start=3,
        started_at=at(4),
        context={"provider_connection_id": 42, "note": ["a", 1]},
    )
    ports = load([recorded], [])
    assert ports.runs.get_run(7) == recorded
    assert ports.runs.get_run(8) is None
    assert ports.runs.list_runs(RunQuery(workspace_ids={"w1"})).runs == [recorded]


def test_resolver_end_to_end(load: Loader) -> None:
    connection = {"provider_connection_id": "c1"}
    runs = [
        # The provider loop: a blocked check, then the connection fixed and verified healthy.
        run(1, CHECK, outcome="blocked", start=0, context=connection),
        # A sync that failed and later succeeded.
        run(2, outcome="failed", start=10),
        run(3, "inventory_sync", outcome="succeeded", start=20),
        # A failure beside a success of the same type in another workspace.
        run(4, "directory.sync", outcome="failed", start=30),
        run(5, "directory.sync", outcome="succeeded", start=40, workspace_id="w2"),
        # A restore that failed and later succeeded stays in manual review.
        run(6, "restore.execute", outcome="failed", start=50, context={"backup_set_id": "b1"}),
        run(7, "restore.execute", outcome="succeeded", start=60, context={"backup_set_id": "b1"}),
        # A baseline capture resolved by a complete snapshot proven afterwards.
        run(
            8, "baseline.capture", outcome="failed", start=70, context={"baseline_profile_id": "p1"}
        ),
        run(9, "notifications.send", outcome="failed", start=80, environment_id=None),
        run(10, "inventory.sync", status="running", outcome=None, start=90, completed_at=None),
    ]
    facts = [
        fact("provider_connection", "c1", "healthy", 5),
        fact("baseline_snapshot", "p1", "complete", 75),
    ]
    ports = load(runs, facts)
    results = ports.resolver().evaluate_many(runs, as_of=AS_OF)
    assert [(r.run_id, r.status) for r in results] == [
        (1, Actionability.RESOLVED_BY_CURRENT_STATE),
        (2, Actionability.SUPERSEDED_BY_LATER_SUCCESS),
        (3, Actionability.INFORMATIONAL_ONLY),
        (4, Actionability.ACTIONABLE),
        (5, Actionability.INFORMATIONAL_ONLY),
        (6, Actionability.REQUIRES_MANUAL_REVIEW),
        (7, Actionability.INFORMATIONAL_ONLY),
        (8, Actionability.RESOLVED_BY_CURRENT_STATE),
        (9, Actionability.INFORMATIONAL_ONLY),
        (10, Actionability.NOT_TERMINAL),
    ]
    assert getattr(results[1].proof, "run_id", None) == 3
    assert getattr(results[0].proof, "proven_at", None) == at(5)


def test_a_new_check_after_the_fix_reopens_nothing_but_a_new_failure_does(load: Loader) -> None:
    connection = {"provider_connection_id": "c1"}
    runs = [
        run(1, CHECK, outcome="blocked", start=0, context=connection),
        run(2, CHECK, outcome="failed", start=30, context=connection),
    ]
    ports = load(runs, [fact("provider_connection", "c1", "healthy", 10)])
    first, second = ports.resolver().evaluate_many(runs, as_of=AS_OF)
    assert first.status is Actionability.RESOLVED_BY_CURRENT_STATE
    assert second.status is Actionability.ACTIONABLE
    assert second.reason == Reason.NO_RESOLVING_EVIDENCE


@pytest.mark.parametrize("outcome", [RunOutcome.FAILED, RunOutcome.CANCELLED])
def test_evidence_after_as_of_is_ignored_end_to_end(load: Loader, outcome: RunOutcome) -> None:
    runs = [run(1, outcome=outcome.value, start=0), run(2, outcome="succeeded", start=5)]
    ports = load(runs, [])
    early = ports.resolver().evaluate(runs[0], as_of=at(3))
    late = ports.resolver().evaluate(runs[0], as_of=at(3) + timedelta(hours=1))
    if outcome is RunOutcome.CANCELLED:
        assert early.status is late.status is Actionability.INFORMATIONAL_ONLY
    else:
        assert early.status is Actionability.ACTIONABLE
        assert late.status is Actionability.SUPERSEDED_BY_LATER_SUCCESS
