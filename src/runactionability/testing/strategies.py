"""Hypothesis strategies for runs, histories and state facts over an operation catalog.

The values are drawn from small pools (two workspaces, two environments, a handful of subjects,
minutes apart within one day) so that runs collide on scope, subject and time often enough for
supersession, state resolution and the edge cases of event-time order to be exercised. Subjects
are drawn both as ints and as strings so that ``42`` and ``"42"`` meet.

Random draws rarely put a later success or a current state beside a problem run of the same
scope and subject (about 0.5% of ``scenarios``' results are superseded and none is resolved by
state), so ``evidence_scenarios`` draws the evidence *about* each problem run: a later success of
a type that supersedes it, and states of the requested kinds and statuses in its scope, proven
just before, at or after it completed. ``bench/strategy_mix.py`` prints each strategy's mix.

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

from runactionability.catalog import OperationCatalog, OperationType
from runactionability.evidence import StateFact
from runactionability.model import OperationRun, RunOutcome, RunStatus
from runactionability.registry import Registry

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
    types: Sequence[str] | None = None,
    base: datetime = BASE,
) -> OperationRun:
    """One well-formed run of a catalog type, stored under its canonical name or an alias.

    ``outcomes`` limits the outcome (None in it means an active run); by default about half the
    runs succeed, most of the rest are problem runs and a few are queued or running. ``types``
    limits the types to some canonical names of the catalog (default: every type).
    """
    catalog = OperationCatalog.reference() if catalog is None else catalog
    pool = catalog.inventory() if types is None else tuple(catalog[name] for name in types)
    op_type = draw(st.sampled_from(pool))
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


@st.composite
def evidence_scenarios(
    draw: st.DrawFn,
    *,
    catalog: OperationCatalog | None = None,
    types: Sequence[str] | None = None,
    state_kinds: Sequence[str] = (),
    statuses: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    registry: Registry | None = None,
    max_targets: int = 6,
    max_noise: int = 8,
    base: datetime = BASE,
) -> Scenario:
    """Problem runs (of ``types``, default every type) with evidence drawn about each of them.

    For each problem run, maybe a later success under a stored name of a type that supersedes
    it, in the same scope and subject, started from ten minutes before to an hour after the
    failure completed (before, at and after the boundary); for each of ``state_kinds``, three
    times in four a state of its scope and subject, proven in the same window. A little evidence
    lands in the other environment, which must never count. Noise runs of the catalog follow;
    ``as_of`` is mostly after every event, sometimes before the latest ones. Run ids are
    renumbered 1, 2, ...

    A state's status comes from ``statuses`` (one pool, or a pool per kind). With ``registry``,
    each run gets states only of the kinds its family asks for, and by default its statuses are
    the ones its family declares as resolving it, or ``degraded``; without, ``STATE_STATUSES``.
    """
    catalog = OperationCatalog.reference() if catalog is None else catalog
    targets = draw(
        st.lists(
            operation_runs(catalog=catalog, types=types, outcomes=PROBLEM_OUTCOMES, base=base),
            min_size=1,
            max_size=max_targets,
        )
    )
    runs: list[OperationRun] = list(targets)
    facts: list[StateFact] = []
    families = {} if registry is None else registry.families()
    for target in targets:
        op_type = catalog.resolve(target.type)
        assert op_type is not None
        if draw(st.booleans()):
            runs.append(_later_success(draw, target, catalog.superseding_names(op_type.name)))
        family = families.get(op_type.family)
        kinds = [k for k in state_kinds if family is None or k in family.state_kinds]
        # Three times in four a state of each kind: resolution needs one, and so does its absence.
        for kind in [kind for kind in kinds if _chance(draw, 3, 4)]:
            if statuses is not None:
                pool = _status_pool(statuses, kind)
            elif family is not None:
                pool = [*sorted(family.resolving_statuses(kind, op_type.name)), "degraded"]
            else:
                pool = list(STATE_STATUSES)
            facts.append(_state_about(draw, target, op_type, kind, pool))
    runs += draw(histories(max_size=max_noise, catalog=catalog, base=base))
    runs = [attrs.evolve(run, id=index) for index, run in enumerate(runs, start=1)]
    latest = max(run.completed_at or run.created_at for run in runs)
    as_of = latest + _minutes(draw(st.one_of(st.integers(0, 120), st.integers(-90, 0))))
    states = {kind: tuple(fact for fact in facts if fact.kind == kind) for kind in state_kinds}
    return Scenario(runs=tuple(runs), states=states, as_of=as_of)


def _later_success(draw: st.DrawFn, target: OperationRun, names: Sequence[str]) -> OperationRun:
    start = target.completed_at + _minutes(draw(st.integers(-10, 60)))
    return attrs.evolve(
        target,
        type=draw(st.sampled_from(tuple(names))),
        environment_id=_elsewhere(draw, target.environment_id),
        outcome=RunOutcome.SUCCEEDED,
        created_at=start,
        started_at=None,
        completed_at=start + _minutes(draw(st.integers(0, 20))),
    )


def _state_about(
    draw: st.DrawFn, target: OperationRun, op_type: OperationType, kind: str, pool: Sequence[str]
) -> StateFact:
    subject = None if op_type.subject_key is None else target.context[op_type.subject_key]
    environment = None if op_type.workspace_owned else target.environment_id
    return StateFact(
        kind=kind,
        workspace_id=str(target.workspace_id),
        environment_id=_elsewhere(draw, environment),
        subject=None if subject is None else str(subject),
        status=draw(st.sampled_from(tuple(pool))),
        proven_at=target.completed_at + _minutes(draw(st.integers(-10, 60))),
    )


def _status_pool(statuses: Sequence[str] | Mapping[str, Sequence[str]], kind: str) -> list[str]:
    if isinstance(statuses, Mapping):
        return list(statuses.get(kind, STATE_STATUSES))
    return list(statuses)


def _chance(draw: st.DrawFn, times: int, out_of: int) -> bool:
    """True ``times`` in ``out_of`` draws, roughly.

    Hypothesis favours small integers and a pool's first elements (they are where it shrinks
    to), so ``integers(0, 9) == 0`` comes out far more often than once in ten; a pool with the
    likelier answer first keeps the intended share.
    """
    return bool(draw(st.sampled_from((True,) * times + (False,) * (out_of - times))))


def _elsewhere(draw: st.DrawFn, environment: object) -> str | None:
    """``environment``, or now and then another one (evidence from a scope that must not count)."""
    if environment is None or _chance(draw, 9, 10):
        return None if environment is None else str(environment)
    others = [other for other in ENVIRONMENTS if other != environment]
    return draw(st.sampled_from(others or ["elsewhere"]))


def _minutes(count: int) -> timedelta:
    return timedelta(minutes=count)
