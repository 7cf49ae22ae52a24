"""Hypothesis strategies for runs, histories and state facts over an operation catalog.

The values are drawn from small pools (two workspaces, two environments, a handful of subjects,
minutes apart within one day) so that runs collide on scope, subject and time often enough for
supersession, state resolution and the edge cases of event-time order to be exercised. Subjects
are drawn both as ints and as strings so that ``42`` and ``"42"`` meet.

Every strategy takes the catalog (default: the reference catalog) and the pools as keyword
arguments, so a host can point them at its own catalog::

    from hypothesis import given
    from runactionability.testing import strategies as ras

    @given(ras.scenarios(catalog=my_catalog, state_kinds=("provider_connection",)))
    def test_my_screen_never_drops_a_run(scenario): ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import strategies as st

from runactionability.catalog import OperationCatalog
from runactionability.evidence import StateFact
from runactionability.model import OperationRun, RunOutcome, RunStatus

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
"""The earliest instant the strategies draw; every drawn instant lies within a day after it."""
WORKSPACES = ("acme", "globex")
ENVIRONMENTS = ("prod", "staging")
SUBJECTS = ("7", "8", "42")
STATE_STATUSES = ("healthy", "complete", "published", "degraded", "failed")
PROBLEM_OUTCOMES = (
    RunOutcome.FAILED,
    RunOutcome.BLOCKED,
    RunOutcome.PARTIALLY_SUCCEEDED,
    RunOutcome.CANCELLED,
)


@attrs.frozen(kw_only=True)
class Scenario:
    """Runs to evaluate, the history and state they are judged against, and the instant."""

    runs: tuple[OperationRun, ...]
    states: Mapping[str, tuple[StateFact, ...]]
    as_of: datetime


def instants(*, base: datetime = BASE, minutes: int = 24 * 60) -> st.SearchStrategy[datetime]:
    """Timezone-aware instants, whole minutes from ``base`` (so that ties happen)."""
    return st.integers(0, minutes).map(lambda offset: base + timedelta(minutes=offset))


def subjects(pool: Sequence[str] = SUBJECTS) -> st.SearchStrategy[str | int]:
    """A subject from ``pool``, as the string or (when it is numeric) as the int."""
    as_strings: st.SearchStrategy[str | int] = st.sampled_from(tuple(pool))
    numeric = tuple(int(subject) for subject in pool if subject.isdigit())
    if not numeric:
        return as_strings
    return st.one_of(as_strings, st.sampled_from(numeric))


@st.composite
def operation_runs(
    draw: st.DrawFn,
    *,
    run_id: st.SearchStrategy[str | int] | None = None,
    catalog: OperationCatalog | None = None,
    workspaces: Sequence[str] = WORKSPACES,
    environments: Sequence[str] = ENVIRONMENTS,
    subject_pool: Sequence[str] = SUBJECTS,
    outcomes: Sequence[RunOutcome | None] | None = None,
    base: datetime = BASE,
) -> OperationRun:
    """One well-formed run of a catalog type, stored under its canonical name or an alias.

    ``outcomes`` limits the outcome (None in it means an active run); by default about half the
    runs succeed, most of the rest are problem runs and a few are queued or running.
    """
    catalog = OperationCatalog.reference() if catalog is None else catalog
    op_type = draw(st.sampled_from(catalog.inventory()))
    stored = draw(st.sampled_from(catalog.stored_names(op_type.name)))
    if outcomes is None:
        outcome = draw(
            st.one_of(
                st.just(RunOutcome.SUCCEEDED),
                st.sampled_from(PROBLEM_OUTCOMES),
                st.sampled_from((RunOutcome.SUCCEEDED, None)),
            )
        )
    else:
        outcome = draw(st.sampled_from(tuple(outcomes)))
    created = draw(instants(base=base))
    started = draw(st.one_of(st.none(), st.integers(0, 5).map(lambda m: created + _minutes(m))))
    completed = None
    status = draw(st.sampled_from((RunStatus.QUEUED, RunStatus.RUNNING)))
    if outcome is not None:
        status = RunStatus.COMPLETED
        completed = (started or created) + _minutes(draw(st.integers(0, 30)))
    context: dict[str, object] = {}
    if op_type.subject_key is not None:
        context[op_type.subject_key] = draw(subjects(subject_pool))
    environment: str | None = draw(st.sampled_from(tuple(environments)))
    if op_type.workspace_owned:
        # Hosts often leave the environment empty on workspace runs; some fill it in anyway.
        environment = draw(st.sampled_from((None, environment)))
    return OperationRun(
        id=draw(st.integers(1, 10**9) if run_id is None else run_id),
        type=stored,
        workspace_id=draw(st.sampled_from(tuple(workspaces))),
        environment_id=environment,
        status=status,
        outcome=outcome,
        created_at=created,
        started_at=started,
        completed_at=completed,
        context=context,
    )


def histories(
    *, min_size: int = 0, max_size: int = 25, **run_options: object
) -> st.SearchStrategy[list[OperationRun]]:
    """Lists of runs with distinct ids (``run_options`` go to ``operation_runs``)."""
    return st.lists(
        operation_runs(**run_options),  # type: ignore[arg-type]
        min_size=min_size,
        max_size=max_size,
        unique_by=lambda run: run.id,
    )


@st.composite
def state_facts(
    draw: st.DrawFn,
    *,
    kinds: Sequence[str],
    workspaces: Sequence[str] = WORKSPACES,
    environments: Sequence[str | None] = (*ENVIRONMENTS, None),
    subject_pool: Sequence[str | None] = (*SUBJECTS, None),
    statuses: Sequence[str] = STATE_STATUSES,
    base: datetime = BASE,
) -> StateFact:
    """One state fact of one of ``kinds`` (environment None: a workspace-owned object)."""
    return StateFact(
        kind=draw(st.sampled_from(tuple(kinds))),
        workspace_id=draw(st.sampled_from(tuple(workspaces))),
        environment_id=draw(st.sampled_from(tuple(environments))),
        subject=draw(st.sampled_from(tuple(subject_pool))),
        status=draw(st.sampled_from(tuple(statuses))),
        proven_at=draw(instants(base=base)),
    )


@st.composite
def scenarios(
    draw: st.DrawFn,
    *,
    catalog: OperationCatalog | None = None,
    state_kinds: Sequence[str] = (),
    max_runs: int = 25,
    max_states: int = 10,
    base: datetime = BASE,
) -> Scenario:
    """Runs, state facts for ``state_kinds`` and an ``as_of`` that may fall inside the window.

    ``as_of`` is sometimes before the latest events, so that evidence completed or proven after
    it (which must never count) is drawn too.
    """
    runs = draw(histories(max_size=max_runs, catalog=catalog, base=base))
    states: dict[str, tuple[StateFact, ...]] = dict.fromkeys(state_kinds, ())
    if state_kinds:
        facts = draw(st.lists(state_facts(kinds=state_kinds, base=base), max_size=max_states))
        for kind in state_kinds:
            states[kind] = tuple(fact for fact in facts if fact.kind == kind)
    as_of = draw(instants(base=base, minutes=26 * 60))
    return Scenario(runs=tuple(runs), states=states, as_of=as_of)


def _minutes(count: int) -> timedelta:
    return timedelta(minutes=count)
