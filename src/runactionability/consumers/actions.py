"""Action eligibility and the one primary action a screen offers for a run.

The core already puts a primary-action hint on each result; it knows the run and its evidence but
not what else is going on. These helpers refine the hint with what a screen knows: the actor's
visible scopes and the work that is queued or running right now.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime

from runactionability.catalog import OperationCatalog
from runactionability.evidence import RunFact, StateFact
from runactionability.limits import MAX_LIMIT, check_limit
from runactionability.messages import msg
from runactionability.model import OperationRun, RunId, RunStatus, usable_id
from runactionability.policies.base import Family, Risk, retry_action, review_action
from runactionability.policies.rules import VIEW_LATER_SUCCESS, view_state_label
from runactionability.ports import RunQuery, RunSource
from runactionability.result import (
    Actionability,
    ActionabilityResult,
    ActionKind,
    PrimaryAction,
)
from runactionability.scopes import VisibleScopes
from runactionability.terms import run_status_name

_ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
_OLDEST = datetime.min.replace(tzinfo=UTC)

WorkKey = tuple[str, str, str | None, str | None]
"""(canonical type, workspace id, environment id or None when workspace-owned, subject)."""


def is_repeatable(family: Family) -> bool:
    """Whether a family's problem runs may be retried: its policy falls back to ``RetryAction``.

    Read from what the policy declares (``Family.policy_description()``) rather than from a list
    of names, so a plugin family that composes ``FirstDecisive(..., action=RetryAction())`` is
    repeatable too. A fallback that can never be reached (a rule that always decides, such as
    ``AlwaysManualReview``) does not count, a policy that does not describe itself is not
    retried, and a high-risk family is never retried blindly.
    """
    if family.risk is Risk.HIGH:
        return False
    policy = family.policy_description()
    if policy.steps is None or policy.fallback is not ActionKind.RETRY:
        return False
    return not any(step.always and step.types is None for step in policy.steps)


def work_key(run: OperationRun, catalog: OperationCatalog) -> WorkKey | None:
    """What makes two runs "the same work": type, scope and subject, compared as the core does.

    None when the run cannot be placed (unknown type, unusable scope id, missing subject): such a
    run neither blocks nor is blocked.
    """
    op_type = catalog.resolve(run.type)
    if op_type is None:
        return None
    workspace_id = usable_id(run.workspace_id)
    if workspace_id is None:
        return None
    environment_id: str | None = None
    if not op_type.workspace_owned:
        environment_id = usable_id(run.environment_id)
        if environment_id is None:
            return None
    subject: str | None = None
    if op_type.subject_key is not None:
        if not isinstance(run.context, Mapping):
            return None
        subject = usable_id(run.context.get(op_type.subject_key))
        if subject is None:
            return None
    return (op_type.name, workspace_id, environment_id, subject)


def is_active(run: OperationRun) -> bool:
    """Whether the run is queued or running (and records no outcome, as an active run must not)."""
    return run.status in _ACTIVE and run.outcome is None


def _recency(run: OperationRun) -> tuple[datetime, tuple[bool, RunId]]:
    # The dashboard's order: ints order numerically and strings lexically, as a database orders
    # one typed id column.
    return (_newest_key(run)[0], (isinstance(run.id, str), run.id))


def _newest_key(run: OperationRun) -> tuple[datetime, str]:
    created = run.created_at
    if not isinstance(created, datetime) or created.utcoffset() is None:
        created = _OLDEST
    return (created, str(run.id))


class ActiveRuns:
    """The queued and running runs of the visible scopes, by the work they do.

    A retry is never offered while the same work is queued or running; the screen points at that
    run instead. Runs outside ``scopes`` are ignored, so a blocking run is always one the actor
    may see.
    """

    def __init__(
        self, runs: Iterable[OperationRun], *, catalog: OperationCatalog, scopes: VisibleScopes
    ) -> None:
        self._catalog = catalog
        self.scopes = scopes
        self._runs: list[OperationRun] = []
        self._by_key: dict[WorkKey, OperationRun] = {}
        self._add(runs)

    def _add(self, runs: Iterable[OperationRun]) -> None:
        scopes, catalog = self.scopes, self._catalog
        for run in runs:
            if not is_active(run) or not scopes.admits_run(run):
                continue
            self._runs.append(run)
            key = work_key(run, catalog)
            if key is None:
                continue
            known = self._by_key.get(key)
            if known is None or _newest_key(run) > _newest_key(known):
                self._by_key[key] = run

    @classmethod
    def from_source(
        cls,
        source: RunSource,
        *,
        catalog: OperationCatalog,
        scopes: VisibleScopes,
        page_size: int = 500,
        as_of: datetime | None = None,
    ) -> ActiveRuns:
        """Every queued or running run of ``scopes``, read page by page from ``source``.

        With ``as_of``, the runs that were queued or running at that instant (``run_as_of``).
        """
        check_limit(page_size, name="page_size")
        query = scopes.query(statuses=_ACTIVE, as_of=as_of)
        return cls(_every_run(source, query, page_size), catalog=catalog, scopes=scopes)

    def newest(self, top: int, *, count: int | None = None) -> list[OperationRun]:
        """Active runs among which are the ``top`` newest by (``created_at``, id), newest first;
        a ``created_at`` that cannot be placed sorts as the oldest. ``count``: how many active
        runs there are, when the caller has counted them (a reader may then read them all)."""
        return sorted(self._runs, key=_recency, reverse=True)[: max(top, 0)]

    def prepare(self, runs: Iterable[OperationRun]) -> None:
        """Have ``blocking`` ready for each of ``runs``: nothing to read here, every active run
        is held (``KeyedActiveRuns`` reads what the runs need, in one statement)."""

    def blocking(self, run: OperationRun) -> OperationRun | None:
        """The newest queued or running run doing the same work as ``run`` (never itself)."""
        key = work_key(run, self._catalog)
        if key is None:
            return None
        active = self._by_key.get(key)
        return None if active is None or active.id == run.id else active

    def __iter__(self) -> Iterator[OperationRun]:
        return iter(self._runs)

    def __len__(self) -> int:
        return len(self._runs)


def _every_run(source: RunSource, query: RunQuery, page_size: int) -> list[OperationRun]:
    runs: list[OperationRun] = []
    cursor: str | None = None
    while True:
        page = source.list_runs(query, limit=page_size, cursor=cursor)
        runs.extend(page.runs)
        cursor = page.next_cursor
        if cursor is None or not page.runs:
            return runs


READ_EVERY_AT_MOST = 50
"""Active runs a ``KeyedActiveRuns`` reads all at once when it knows there are no more: a
statement costs 0.3-1 ms of CPU, a run read 25-50 µs (docs/performance.md)."""


class KeyedActiveRuns(ActiveRuns):
    """The queued and running runs of ``scopes`` at ``as_of``, read from ``source`` only for the
    work a screen asks about: it answers exactly as ``ActiveRuns.from_source`` would.

    Only an active run of the same type can block a run, so ``prepare`` reads the active runs of
    every (canonical) type of its runs, under each stored name, in one statement, and
    ``blocking`` reads a type nobody prepared on its own. Iterating or counting reads every
    active run once. On a 20,000-run workspace with 637 active runs, a request read them all
    only to answer ``blocking`` for the ten to fifty runs it shows.
    """

    def __init__(
        self,
        source: RunSource,
        *,
        catalog: OperationCatalog,
        scopes: VisibleScopes,
        as_of: datetime | None,
        page_size: int = 500,
    ) -> None:
        super().__init__((), catalog=catalog, scopes=scopes)
        self._source, self._as_of, self._page_size = source, as_of, page_size
        self._read: set[str] = set()
        self._whole = False

    def prepare(self, runs: Iterable[OperationRun]) -> None:
        if self._whole:
            return
        resolve = self._catalog.resolve
        missing = {op.name for run in runs if (op := resolve(run.type)) is not None}
        missing -= self._read
        if not missing:
            return
        names = [name for each in sorted(missing) for name in self._catalog.stored_names(each)]
        query = self.scopes.query(statuses=_ACTIVE, as_of=self._as_of, operation_types=names)
        # Every active run of these types, under every stored name: so the newest of each work
        # key among them is the newest of all (``blocking``), as if every run had been read.
        self._add(_every_run(self._source, query, self._page_size))
        self._read |= missing

    def blocking(self, run: OperationRun) -> OperationRun | None:
        self.prepare((run,))
        return super().blocking(run)

    def newest(self, top: int, *, count: int | None = None) -> list[OperationRun]:
        """Read newest first, once ``top`` placeable active runs are read and the last of them is
        strictly older than the ``top``-th newest, no run left unread can be newer (a run whose
        ``created_at`` cannot be placed sorts as the oldest, wherever the source lists it).

        With ``count`` at most ``READ_EVERY_AT_MOST``, every active run is read instead: one
        statement of a few rows then answers every later ``blocking`` too; so too from a source
        that does not say it lists by instant (``orders_by_instant``)."""
        if top <= 0:
            return []  # a dashboard with no top shows no active run: nothing to read for it
        # Stopping early trusts the source to list by instant, which only a source that says so
        # (SqlRunSource.orders_by_instant) is known to do.
        trusted = getattr(self._source, "orders_by_instant", False) is True
        if not trusted or (count is not None and count <= READ_EVERY_AT_MOST):
            self._read_every_run()
        if self._whole:
            return super().newest(top)
        query = self.scopes.query(statuses=_ACTIVE, as_of=self._as_of)
        found: list[OperationRun] = []
        placed: list[datetime] = []
        cursor: str | None = None
        while True:
            # One past the top tells whether a later run ties; a port reads at most MAX_LIMIT.
            page = self._source.list_runs(query, limit=min(top + 1, MAX_LIMIT), cursor=cursor)
            for run in page.runs:
                if is_active(run) and self.scopes.admits_run(run):
                    found.append(run)
                    if (created := _newest_key(run)[0]) is not _OLDEST:
                        placed.append(created)
            cursor = page.next_cursor
            done = len(placed) >= top and placed[-1] < sorted(placed, reverse=True)[top - 1]
            if cursor is None or not page.runs or done:
                return sorted(found, key=_recency, reverse=True)[:top]

    def __iter__(self) -> Iterator[OperationRun]:
        self._read_every_run()
        return super().__iter__()

    def __len__(self) -> int:
        self._read_every_run()
        return super().__len__()

    def _read_every_run(self) -> None:
        if self._whole:
            return
        query = self.scopes.query(statuses=_ACTIVE, as_of=self._as_of)
        self._runs, self._by_key = [], {}
        self._add(_every_run(self._source, query, self._page_size))
        self._whole = True


def _view_active(run: OperationRun) -> PrimaryAction:
    return PrimaryAction(
        kind=ActionKind.VIEW_ACTIVE_RUN,
        label=msg(
            "action.view_active_run",
            "View the {status} run of the same operation",
            status=run_status_name(run.status),
        ),
        target_kind="run",
        target_id=str(run.id),
    )


def _retry(run: OperationRun, catalog: OperationCatalog) -> PrimaryAction:
    # Labelled as the policy's own retry is, so a screen shows one label whichever offers it.
    op_type = catalog.resolve(run.type)
    return retry_action(run, op_type)


def _view_proof(proof: RunFact | StateFact) -> PrimaryAction:
    if isinstance(proof, RunFact):
        return PrimaryAction(
            kind=ActionKind.VIEW_RUN,
            label=VIEW_LATER_SUCCESS,
            target_kind="run",
            target_id=str(proof.run_id),
        )
    return PrimaryAction(
        kind=ActionKind.VIEW_STATE,
        label=view_state_label(proof.kind),
        target_kind=proof.kind,
        target_id=proof.subject,
    )


def _target_visible(action: PrimaryAction, run: OperationRun, active: ActiveRuns) -> bool:
    """Whether a policy's action points only at what the actor may see.

    An action names its target by kind and id, not by scope, so only targets placed in the run's
    own (visible) scope qualify: the run itself, or the object its type correlates on (its
    subject). Anything else may be a run or an object in a scope the actor cannot see.
    """
    target_kind, target_id = action.target_kind, action.target_id
    if target_id is None:
        return True
    if target_kind == "run":
        return target_id == str(run.id)
    placed = work_key(run, active._catalog)
    return placed is not None and placed[3] is not None and target_id == placed[3]


def plan_actions(
    run: OperationRun,
    result: ActionabilityResult,
    *,
    family: Family | None,
    active: ActiveRuns,
) -> tuple[PrimaryAction | None, frozenset[ActionKind], RunId | None]:
    """The primary action, every eligible action kind, and the active run blocking a retry.

    - actionable, repeatable family: retry, unless the same work is queued or running (then view
      that run);
    - actionable, other families: the core's hint when it opens the related object (a provider
      connection, a baseline profile, a backup schedule), else review;
    - manual review: review;
    - superseded or resolved: view the proof (the later run, the current state);
    - informational and active runs: no action.

    ``result`` is expected to carry only proofs the actor may see (``assess`` redacts others).
    The policy's own action is offered only when its target is the run itself or the run's
    subject; one that names anything else (it may be hidden from the actor) is replaced by the
    library's action for the status.
    """
    status = result.status
    hint = result.primary_action
    if hint is not None and not _target_visible(hint, run, active):
        hint = None
    if status is Actionability.ACTIONABLE:
        if family is not None and is_repeatable(family):
            blocker = active.blocking(run)
            if blocker is not None:
                return _view_active(blocker), frozenset({ActionKind.VIEW_ACTIVE_RUN}), blocker.id
            action = (
                hint
                if hint is not None and hint.kind is ActionKind.RETRY
                else _retry(run, active._catalog)
            )
            return action, frozenset({ActionKind.RETRY}), None
        if hint is not None and hint.kind is ActionKind.OPEN_RELATED and hint.target_id:
            return hint, frozenset({ActionKind.OPEN_RELATED}), None
        return review_action(run, None), frozenset({ActionKind.REVIEW}), None
    if status is Actionability.REQUIRES_MANUAL_REVIEW:
        if hint is None or hint.kind is not ActionKind.REVIEW:
            hint = review_action(run, None)
        return hint, frozenset({ActionKind.REVIEW}), None
    proof = result.proof
    if (
        status
        in (
            Actionability.SUPERSEDED_BY_LATER_SUCCESS,
            Actionability.RESOLVED_BY_CURRENT_STATE,
        )
        and proof is not None
        and active.scopes.admits_proof(proof)
    ):
        action = _view_proof(proof)
        return action, frozenset({action.kind}), None
    return None, frozenset(), None
