"""What changed between two instants: the values of the change feed, and how one is judged.

A run *changed* between ``since`` and ``until`` when its actionability status at ``until``
differs from its status at ``since`` (None when it did not exist then). A different proof, an
explanation or an action with the same status is not a change. ``changed_at`` is the instant the
change arrived, defined by ``judge`` (and in ``docs/changes.md``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from runactionability.errors import UsageError
from runactionability.evidence import RunFact, StateFact
from runactionability.model import OperationRun, RunId, RunStatus
from runactionability.result import Actionability, ActionabilityResult


class ChangeCause(enum.StrEnum):
    """What moved a run to the status it has at ``until`` (the latest thing that arrived)."""

    NEW_RUN = "new_run"
    """The run was created in the window (and did nothing else there), or another row that
    took its id, or its proof's id, was (a table without a unique id)."""
    RUN_COMPLETED = "run_completed"
    """The run itself completed in the window."""
    LATER_SUCCESS = "later_success"
    """A later successful run, completed in the window, is the proof of the new status."""
    STATE = "state"
    """A domain state, proven in the window, is the proof of the new status."""


@attrs.frozen(kw_only=True)
class Change:
    """One run whose actionability status at ``until`` differs from its status at ``since``.

    ``run`` is the run as stored; ``since_status`` its status at ``since`` (None: the run did
    not exist then); ``result`` its full result at ``until`` (status, reason, explanation,
    proof). ``evidence`` is the fact that caused the change (the later success or the state
    the result's proof names), None when the run's own creation or completion did;
    ``changed_at`` is the instant that cause arrived.
    """

    run: OperationRun
    since_status: Actionability | None
    result: ActionabilityResult
    cause: ChangeCause
    evidence: RunFact | StateFact | None
    changed_at: datetime

    @property
    def run_id(self) -> RunId:
        return self.run.id

    @property
    def status(self) -> Actionability:
        """The status at ``until``."""
        return self.result.status

    @property
    def key(self) -> tuple[datetime, int, RunId]:
        """The feed's order: by ``changed_at``, then by run id (integers before strings)."""
        return order_key(self.changed_at, self.run.id)


def order_key(changed_at: datetime, run_id: RunId) -> tuple[datetime, int, RunId]:
    """The order of the feed at (``changed_at``, ``run_id``); ids of one kind sort as values."""
    return (changed_at, 1 if isinstance(run_id, str) else 0, run_id)


@attrs.frozen(kw_only=True)
class ChangePage:
    """One page of the changes between ``since`` and ``until``, ordered by ``Change.key``.

    ``next_cursor`` continues this window (None on its last page). ``poll_cursor`` is what a
    poller passes next: this window's next page while there is one, else the end of the window,
    from which the next poll starts.
    """

    changes: Sequence[Change]
    since: datetime
    until: datetime
    next_cursor: str | None
    poll_cursor: str


@attrs.frozen
class Arrival:
    """Evidence that arrived in the window: a success completed or a state proven at ``instant``.

    ``environment_id`` is None for what is not confined to one environment.
    """

    instant: datetime
    cause: ChangeCause
    workspace_id: str
    environment_id: str | None


def _placed(value: object) -> datetime | None:
    return value if isinstance(value, datetime) and value.utcoffset() is not None else None


def check_window(since: datetime, until: datetime) -> None:
    """Raise ``UsageError`` unless both are timezone-aware and ``since`` is not after ``until``."""
    for name, value in (("since", since), ("until", until)):
        if _placed(value) is None:
            raise UsageError(f"{name} must be a timezone-aware datetime, not {value!r}")
    if since > until:
        raise UsageError(f"since ({since.isoformat()}) is after until ({until.isoformat()})")


def judge(
    run: OperationRun,
    since_status: Actionability | None,
    result: ActionabilityResult,
    *,
    since: datetime,
    until: datetime,
    arrivals: Iterable[Arrival],
) -> Change:
    """The change of ``run`` (whose status differs), with its cause and ``changed_at``.

    In order, the first that holds: the proof of ``result`` arrived in the window (a success
    completed, a state proven in (since, until]): that evidence, at that instant; the run
    completed in the window: at its ``completed_at``; it was created in the window: at its
    ``created_at``; else (a status the core moved on evidence it did not take as proof) the
    latest evidence that arrived in the window in the run's reach, without a fact.
    """
    proof = result.proof
    if proof is not None:
        instant = proof.completed_at if isinstance(proof, RunFact) else proof.proven_at
        if since < instant <= until:
            cause = ChangeCause.LATER_SUCCESS if isinstance(proof, RunFact) else ChangeCause.STATE
            return _change(run, since_status, result, cause, proof, instant)
    completed = _placed(run.completed_at)
    if run.status is RunStatus.COMPLETED and completed is not None and since < completed <= until:
        return _change(run, since_status, result, ChangeCause.RUN_COMPLETED, None, completed)
    created = _placed(run.created_at)
    if created is not None and since < created <= until:
        return _change(run, since_status, result, ChangeCause.NEW_RUN, None, created)
    inside = [arrival for arrival in arrivals if since < arrival.instant <= until]
    latest = max(inside, key=lambda arrival: arrival.instant, default=None)
    if latest is None:
        # Nothing arrived that could explain it: the change is known at the window's end.
        return _change(run, since_status, result, ChangeCause.NEW_RUN, None, until)
    return _change(run, since_status, result, latest.cause, None, latest.instant)


def _change(
    run: OperationRun,
    since_status: Actionability | None,
    result: ActionabilityResult,
    cause: ChangeCause,
    evidence: RunFact | StateFact | None,
    changed_at: datetime,
) -> Change:
    return Change(
        run=run,
        since_status=since_status,
        result=result,
        cause=cause,
        evidence=evidence,
        changed_at=changed_at,
    )
