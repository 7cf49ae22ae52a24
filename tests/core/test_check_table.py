"""The record checks are one ordered table: the core walks it and the concepts page lists it.

Each check has a run that fails it alone, and the core must give that check's reason; for two
checks a run fails together, the earlier one in the table must win. The concepts page must list
the table in order, with the same names, reasons and descriptions.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support import MINUTE, T0

from runactionability import OperationRun, Registry
from runactionability.checks import RECORD_CHECKS
from runactionability.core import Core
from runactionability.model import RunOutcome, RunStatus
from runactionability.plain_records import plain_scope, scope_key

CONCEPTS = Path(__file__).parents[2] / "docs" / "concepts.md"
NAIVE = datetime(2026, 11, 2, 9, 0)

VALID: dict[str, Any] = {
    "type": "provider.connection.check",
    "workspace_id": "acme",
    "environment_id": "prod",
    "status": RunStatus.COMPLETED,
    "outcome": RunOutcome.FAILED,
    "created_at": T0,
    "started_at": T0,
    "completed_at": T0 + MINUTE,
    "context": {"provider_connection_id": 7},
}

# What a run changes from VALID to fail each check alone. A check added to the table without a
# run here fails ``test_every_check_fails_alone_with_its_own_reason``.
FAILING: dict[str, dict[str, Any]] = {
    "outcome_on_active_run": {"status": RunStatus.RUNNING, "outcome": RunOutcome.FAILED},
    "known_status": {"status": "done"},
    "outcome_recorded": {"outcome": None},
    "known_outcome": {"outcome": "exploded"},
    "known_type": {"type": "no.such.type"},
    "created_at_datetime": {"created_at": "yesterday"},
    "created_at_aware": {"created_at": NAIVE},
    "started_at_datetime": {"started_at": 5},
    "started_at_aware": {"started_at": NAIVE},
    "completed_at_present": {"completed_at": None},
    "completed_at_datetime": {"completed_at": "soon"},
    "completed_at_aware": {"completed_at": NAIVE},
    "completed_after_created": {"started_at": None, "completed_at": T0 - MINUTE},
    "completed_after_started": {"started_at": T0 + 2 * MINUTE},
    "context_mapping": {"context": [("provider_connection_id", 7)]},
    "usable_workspace": {"workspace_id": "  "},
    "environment_named": {"environment_id": None},
    "usable_environment": {"environment_id": ""},
    "usable_subject": {"context": {}},
}

REGISTRY = Registry.default()
CORE = Core(catalog=REGISTRY.catalog(), families=REGISTRY.families(), strict=True)


def _reason(**changes: Any) -> str:
    run = OperationRun(id="r1", **{**VALID, **changes})
    plan = CORE.plan([run], as_of=T0 + timedelta(days=1))
    (result,) = CORE.decide(plan, successes={}, states={}).results
    return str(result.reason)


def test_the_valid_run_passes_every_check() -> None:
    assert _reason() == "no_resolving_evidence"


def test_check_names_are_unique() -> None:
    names = [check.name for check in RECORD_CHECKS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("check", RECORD_CHECKS, ids=lambda check: check.name)
def test_every_check_fails_alone_with_its_own_reason(check: Any) -> None:
    assert check.name in FAILING, f"no run in FAILING fails the check {check.name!r}"
    assert _reason(**FAILING[check.name]) == check.reason.value


PAIRS = [
    (first, later)
    for first, later in itertools.combinations(RECORD_CHECKS, 2)
    if not FAILING.get(first.name, {}).keys() & FAILING.get(later.name, {}).keys()
]


@pytest.mark.parametrize(
    ("first", "later"), PAIRS, ids=[f"{a.name}-before-{b.name}" for a, b in PAIRS]
)
def test_the_earlier_check_in_the_table_wins(first: Any, later: Any) -> None:
    # Where two checks' failing runs change different fields, a run failing both gets the
    # reason of the one earlier in the table: the order of the table is the precedence.
    changes = {**FAILING[later.name], **FAILING[first.name]}
    assert _reason(**changes) == first.reason.value


def _documented_checks(text: str) -> list[tuple[str, str, str]]:
    section = text.split("### The record checks, in order", 1)[1].split("\n## ", 1)[0]
    listed = []
    for number, line in enumerate(re.findall(r"^\d+\. .*$", section, re.MULTILINE), 1):
        match = re.fullmatch(rf"{number}\. `(\w+)` \(`(\w+)`\): (.+)\.", line)
        assert match, f"item {number} of the record checks is not `name` (`reason`): text: {line}"
        listed.append((match[1], match[2], match[3]))
    return listed


def test_concepts_lists_the_record_checks_in_table_order() -> None:
    table = [(check.name, check.reason.value, check.description) for check in RECORD_CHECKS]
    assert _documented_checks(CONCEPTS.read_text()) == table


class _Renamed(int):
    """An int that reads as another id: equal to and hashed like 5, compared as "five"."""

    def __str__(self) -> str:
        return "five"


def test_an_id_subclass_is_scoped_by_the_id_it_reads_as() -> None:
    # The core caches a problem run's requests by its stored ids; a subclass equal to a plain
    # id must still get the requests of the id it reads as, whichever run comes first.
    runs = [
        OperationRun(id=1, **{**VALID, "workspace_id": 5}),
        OperationRun(id=2, **{**VALID, "workspace_id": _Renamed(5)}),
    ]
    plan = CORE.plan(runs, as_of=T0 + timedelta(days=1))
    workspaces = [problem.later_success_request.workspace_id for _, problem, _ in plan.problems]
    assert workspaces == ["5", "five"]


class _Instant(datetime):
    """A datetime subclass: valid, but not the plain class the one-pass check expects."""


_TIMES = [
    None,
    T0,
    T0 + MINUTE,
    T0 - MINUTE,
    NAIVE,
    "soon",
    _Instant(2026, 11, 10, 12, 30, tzinfo=UTC),
]
_IDS = ["acme", "prod", 7, 0, True, 2.0, "", "  ", "a\x00b", " x ", None, _Renamed(5)]
FIELD_VALUES: dict[str, list[Any]] = {
    "type": ["provider.connection.check", "backup.restore", "no.such.type"],
    "status": [*RunStatus, "done"],
    "outcome": [*RunOutcome, None, "exploded"],
    "created_at": _TIMES,
    "started_at": _TIMES,
    "completed_at": _TIMES,
    "workspace_id": _IDS,
    "environment_id": _IDS,
    "context": [{"provider_connection_id": value} for value in _IDS]
    + [{}, [("provider_connection_id", 7)]],
}


@given(
    st.fixed_dictionaries(
        {}, optional={field: st.sampled_from(values) for field, values in FIELD_VALUES.items()}
    )
)
def test_the_one_pass_check_passes_only_runs_the_table_passes(changes: dict[str, Any]) -> None:
    # The core judges most problem runs in one pass (``plain_scope``) and walks the table only
    # for the rest: a run that one pass admits must pass every check, with the table's key.
    run = OperationRun(id="r1", **{**VALID, **changes})
    op_type = REGISTRY.catalog().resolve(run.type)
    if op_type is None or run.status is not RunStatus.COMPLETED:
        return
    key = plain_scope(run, op_type)
    if key is not None:
        assert [check.name for check in RECORD_CHECKS if check.test(run, op_type)] == []
        assert key == scope_key(run, op_type)


def test_the_common_valid_run_is_judged_in_one_pass() -> None:
    # Otherwise every problem run would walk the table, which is correct but slower.
    for type_ in ("provider.connection.check", "alerts.dispatch", "inventory.sync"):
        run = OperationRun(id="r1", **{**VALID, "type": type_})
        op_type = REGISTRY.catalog().resolve(run.type)
        assert op_type is not None
        assert plain_scope(run, op_type) == scope_key(run, op_type)
