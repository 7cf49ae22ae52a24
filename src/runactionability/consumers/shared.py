"""Which runs an actor sees at an instant, and the run ids two of them share.

A host table without a primary key may hold two rows with one id. Every consumer reads such an
id alike: each visible run holding it reads ``duplicate_run_id``, and a success holding it is no
evidence (its proof would name two runs). Only the actor's rows count: a hidden row with the
same id is not read at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from runactionability.evidence import RunFact
from runactionability.model import OperationRun, RunId
from runactionability.ports import RunsById, RunSource, run_as_of
from runactionability.resolver import Resolver
from runactionability.result import ActionabilityResult
from runactionability.scopes import VisibleScopes


def visible_at(
    runs: Iterable[OperationRun], scopes: VisibleScopes, as_of: datetime
) -> list[OperationRun]:
    """The runs of ``scopes`` as they were at ``as_of`` (``run_as_of``), in order: what
    ``assess`` evaluates."""
    return [
        then
        for run in runs
        if scopes.admits_run(run) and (then := run_as_of(run, as_of)) is not None
    ]


IdKey = tuple[type, object]
"""A run id with its class, as ``ShownAssessments`` keys them: ``1`` is not ``"1"``."""


def id_key(run: OperationRun) -> IdKey:
    """The key of a run's id (``IdKey``)."""
    return id_key_of(run.id)


def id_key_of(run_id: RunId) -> IdKey:
    """The key of a run id (``IdKey``)."""
    return (run_id.__class__, run_id)


_V = TypeVar("_V")


class RecentByRunId(dict[IdKey, _V]):
    """What a session keeps of the runs it answered, by ``IdKey``: the ``most`` kept last.

    A session may page through a whole list (the CLI's listings, ``demo.every_assessment``): it
    keeps what its next answers may share, not everything it read. It reads as a dict; ``keep``
    adds to it.
    """

    def __init__(self, most: int) -> None:
        super().__init__()
        self.most = most

    def keep(self, key: IdKey, value: _V) -> None:
        """``value`` for ``key``, now the last kept; past ``most``, the first kept is let go."""
        self.pop(key, None)
        self[key] = value
        if len(self) > self.most:
            # Insertion order: the first key is the one kept longest ago.
            del self[next(iter(self))]


def shared_ids(runs: Iterable[OperationRun], also: Collection[IdKey] = ()) -> frozenset[IdKey]:
    """The keys of the ids that two of ``runs`` share, and ``also``."""
    counts = Counter(id_key(run) for run in runs)
    return frozenset(key for key, n in counts.items() if n > 1).union(also)


def shared_with(
    source: RunSource, runs: Iterable[OperationRun], scopes: VisibleScopes, as_of: datetime
) -> frozenset[IdKey]:
    """The keys of ``runs``' ids that name more than one run of ``scopes`` at ``as_of`` in
    ``source`` (a ``RunsById`` whose ids are not proven unique; any other source answers none,
    and each batch is judged alone).

    Only visible rows count: a row of a hidden scope with the same id is not even read, so
    it changes nothing and an actor learns nothing of it.
    """
    if not isinstance(source, RunsById) or source.unique_ids():
        return frozenset()
    ids = {id_key(run): run.id for run in runs}
    if not ids:
        return frozenset()
    return shared_ids(visible_at(source.runs_by_ids(list(ids.values()), scopes), scopes, as_of))


def shared_proofs(
    source: RunSource | None,
    results: Sequence[ActionabilityResult],
    flagged: Collection[IdKey],
    scopes: VisibleScopes,
    as_of: datetime,
) -> frozenset[IdKey]:
    """The keys of the ids of ``results``' later successes that name two visible runs: in
    ``flagged`` (the batch's shared ids), or in ``source`` (a ``RunsById`` whose ids are not
    proven unique: one read of those ids; none on a table with a unique id).

    Such a success is no evidence: its proof would cite an id that names two runs, which
    ``explain`` answers ``duplicate_run_id`` for, so the run it would settle needs attention.
    """
    cited = {id_key_of(proof.run_id): proof.run_id for r in results if (proof := _run_proof(r))}
    refused = frozenset(key for key in cited if key in flagged)
    if not cited or not isinstance(source, RunsById) or source.unique_ids():
        return refused
    rows = source.runs_by_ids(
        [run_id for key, run_id in cited.items() if key not in refused], scopes
    )
    return refused | shared_ids(visible_at(rows, scopes, as_of)).intersection(cited)


def _run_proof(result: ActionabilityResult) -> RunFact | None:
    return result.proof if isinstance(result.proof, RunFact) else None


def _cites(result: ActionabilityResult, refused: frozenset[IdKey]) -> bool:
    proof = _run_proof(result)
    return proof is not None and id_key_of(proof.run_id) in refused


def citing(
    runs: Sequence[OperationRun],
    results: Sequence[ActionabilityResult],
    refused: frozenset[IdKey],
) -> list[OperationRun]:
    """The runs of ``runs`` whose result (``results``, in order) rests on a refused success:
    those to evaluate again without it."""
    return [run for run, result in zip(runs, results, strict=True) if _cites(result, refused)]


def replaced(
    results: Sequence[ActionabilityResult],
    refused: frozenset[IdKey],
    redone: Sequence[ActionabilityResult],
) -> list[ActionabilityResult]:
    """``results`` with each one citing a refused success replaced, in order, by ``redone``."""
    again = iter(redone)
    return [next(again) if _cites(result, refused) else result for result in results]


def without_shared_proofs(
    resolver: Resolver,
    runs: Sequence[OperationRun],
    results: Sequence[ActionabilityResult],
    *,
    source: RunSource | None,
    flagged: Collection[IdKey],
    scopes: VisibleScopes,
    as_of: datetime,
) -> list[ActionabilityResult]:
    """``results`` of ``runs``, each one that a success whose id names two visible runs would
    settle (``shared_proofs``) evaluated again without that success, in order."""
    refused = shared_proofs(source, results, flagged, scopes, as_of)
    if not refused:
        return list(results)
    redone = resolver.evaluate_many(
        citing(runs, results, refused), as_of=as_of, scopes=scopes, shared_ids=refused
    )
    return replaced(results, refused, redone)
