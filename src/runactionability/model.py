"""Operation runs as the host records them: immutable history, judged but never changed."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, MutableSequence, MutableSet, Sequence
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NoReturn
from uuid import UUID

import attrs

from runactionability.limits import (
    SHORT_INTEGER_BITS,
    TOO_DEEP_CONTEXT,
    check_run_id,
    integer_text,
    value_too_deep,
)

RunId = str | int
"""A run's id as the host stores it: a string or an integer."""


class RunStatus(enum.StrEnum):
    """Where a run is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"


class RunOutcome(enum.StrEnum):
    """How a completed run ended."""

    SUCCEEDED = "succeeded"
    PARTIALLY_SUCCEEDED = "partially_succeeded"
    FAILED = "failed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class Ownership(enum.StrEnum):
    """Whether a type's runs belong to an environment or to a whole workspace."""

    ENVIRONMENT = "environment"
    WORKSPACE = "workspace"


def as_status(value: object) -> RunStatus | object:
    """Turn a known status string into a ``RunStatus``; keep anything else for the core to flag."""
    if value.__class__ is RunStatus:
        # What the adapters pass (they read the vocabulary already): no second lookup.
        return value
    if isinstance(value, str):
        try:
            return RunStatus(value)
        except ValueError:
            pass
    return value


def as_outcome(value: object) -> RunOutcome | object:
    """Turn a known outcome string into a ``RunOutcome``; keep anything else (and None) as is."""
    if value.__class__ is RunOutcome or value is None:
        return value
    if isinstance(value, str):
        try:
            return RunOutcome(value)
        except ValueError:
            pass
    return value


@attrs.frozen(repr=False)
class UnmappedValue:
    """A stored status or outcome that the host's vocabulary does not list, as it was read.

    It is neither a string nor a ``RunStatus``/``RunOutcome``, so ``OperationRun`` keeps it as is
    and the core flags the run (``invalid_status``, ``invalid_outcome``), even when the stored
    text is one of the library's own words: a host that maps its own vocabulary gives such a
    word no meaning, and guessing one would turn a bad row into a confident verdict. What the
    library shows of it (explanations, display names, JSON forms) is ``stored`` (``as_stored``).
    """

    stored: Any

    def __repr__(self) -> str:
        return f"UnmappedValue({self.stored!r})"


def as_stored(value: object) -> object:
    """``value`` as the host stored it: an ``UnmappedValue``'s stored value, anything else as is.

    The wrapper is the library's own marker; a host reading an explanation or a JSON form of its
    run must see the word in its table (``"paused"``), not a Python repr of the wrapper.
    """
    return value.stored if isinstance(value, UnmappedValue) else value


class _FrozenDict(dict[Any, Any]):
    """A nested mapping of a run's context: equal to, and serialized like, the dict it copies."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("a run's context is read-only")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenDict, (dict(self),))


class _FrozenList(list[Any]):
    """A nested list of a run's context: equal to, and serialized like, the list it copies."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("a run's context is read-only")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = clear = extend = insert = pop = remove = reverse = sort = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenList, (list(self),))


# Values that are immutable themselves, so a context made of them needs no deep copy.
_IMMUTABLE = frozenset(
    {str, int, float, bool, type(None), bytes, complex, datetime, date, Decimal, UUID}
)
_ALREADY_FROZEN = frozenset({_FrozenDict, _FrozenList, frozenset})


def _frozen(value: object, memo: dict[int, object]) -> object:
    cls = value.__class__
    if cls in _IMMUTABLE or cls in _ALREADY_FROZEN:
        return value
    known = memo.get(id(value))
    if known is not None:
        return known
    if isinstance(value, Mapping):
        # Registered before it is filled: a sub-object reached along two paths stays one.
        mapping = memo[id(value)] = _FrozenDict()
        dict.update(mapping, {key: _frozen(item, memo) for key, item in value.items()})
        return mapping
    if cls is tuple:
        items = tuple(_frozen(item, memo) for item in value)  # type: ignore[attr-defined]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items  # type: ignore[call-overload]
    if isinstance(value, list | MutableSequence):
        sequence = memo[id(value)] = _FrozenList()
        list.extend(sequence, [_frozen(item, memo) for item in value])
        return sequence
    if isinstance(value, set | MutableSet):
        return frozenset(value)
    if isinstance(value, bytearray):
        return bytes(value)
    return value


def as_context(value: object) -> Mapping[str, Any] | object:
    """Freeze a mapping into a read-only view; keep a non-mapping for the core to flag.

    The freeze is deep: nested dicts, lists and sets become read-only copies (still equal to, and
    serialized like, what they copy), so a policy can change neither the run nor the host's data.
    A context of plain values costs one shallow copy; one nested too deep becomes text."""
    if not isinstance(value, Mapping):
        return value
    immutable, frozen = _IMMUTABLE, _ALREADY_FROZEN
    if value.__class__ is MappingProxyType:
        # A view the model made already (attrs.evolve passes it back) needs no second copy.
        for item in value.values():
            if item.__class__ not in immutable and item.__class__ not in frozen:
                break
        else:
            return value
    copy = dict(value)
    for item in copy.values():
        if item.__class__ not in immutable and item.__class__ not in frozen:
            if value_too_deep(copy):
                return TOO_DEEP_CONTEXT
            memo: dict[int, object] = {}
            return MappingProxyType({key: _frozen(item, memo) for key, item in copy.items()})
    return MappingProxyType(copy)


def as_names(values: Iterable[str]) -> frozenset[str]:
    """Freeze names given as any iterable (one string counts as one name)."""
    return frozenset((values,) if isinstance(values, str) else values)


def as_optional_names(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else as_names(values)


@attrs.frozen(kw_only=True)
class OperationRun:
    """One execution of an operation, exactly as recorded.

    Fields other than ``id`` are stored as given, even when they are malformed (a naive datetime,
    an unknown status, a context that is not a mapping): the core turns such a run into a
    ``requires_manual_review`` result with a reason naming the fault, so one bad row never takes a
    whole dashboard down. Known status and outcome strings become ``RunStatus``/``RunOutcome``.
    """

    id: RunId = attrs.field(validator=check_run_id)
    type: str
    workspace_id: RunId | None
    environment_id: RunId | None = None
    status: RunStatus | Any = attrs.field(converter=as_status)
    outcome: RunOutcome | Any = attrs.field(default=None, converter=as_outcome)
    created_at: datetime | Any
    started_at: datetime | Any = None
    completed_at: datetime | Any = None
    context: Mapping[str, Any] | Any = attrs.field(factory=dict, converter=as_context)

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> OperationRun:
        """Build a run from a mapping with the attribute names as keys (missing keys are None)."""
        context = row.get("context")
        return cls(
            id=row["id"],
            type=row.get("type"),  # type: ignore[arg-type]
            workspace_id=row.get("workspace_id"),
            environment_id=row.get("environment_id"),
            status=row.get("status"),
            outcome=row.get("outcome"),
            created_at=row.get("created_at"),
            started_at=row.get("started_at"),
            completed_at=row.get("completed_at"),
            context={} if context is None else context,
        )

    @property
    def is_terminal(self) -> bool:
        """Whether the run has completed (whatever its outcome)."""
        return self.status is RunStatus.COMPLETED


# For the SQL adapters (one run per row read, ~600 a request on a large workspace): filling the
# slots directly, through the same converters and id check, makes the value the class makes without
# attrs' keyword passing and validator dispatch (measured: a quarter of ``OperationRun(...)``).
_new_object = object.__new__
_SETTERS = tuple(OperationRun.__dict__[name].__set__ for name in attrs.fields_dict(OperationRun))
_set_id, _set_type, _set_workspace_id, _set_environment_id, _set_status = _SETTERS[:5]
_set_outcome, _set_created_at, _set_started_at, _set_completed_at, _set_context = _SETTERS[5:]


def new_run(
    run_id: RunId,
    type_: str,
    workspace_id: RunId | None,
    environment_id: RunId | None,
    status: object,
    outcome: object,
    created_at: object,
    started_at: object,
    completed_at: object,
    context: object,
) -> OperationRun:
    """``OperationRun(id=run_id, type=type_, ...)``, every field given, positionally."""
    if run_id.__class__ is not str and (
        run_id.__class__ is not int or run_id.bit_length() > SHORT_INTEGER_BITS
    ):
        check_run_id(None, None, run_id)
    run = _new_object(OperationRun)
    _set_id(run, run_id)
    _set_type(run, type_)
    _set_workspace_id(run, workspace_id)
    _set_environment_id(run, environment_id)
    _set_status(run, as_status(status))
    _set_outcome(run, as_outcome(outcome))
    _set_created_at(run, created_at)
    _set_started_at(run, started_at)
    _set_completed_at(run, completed_at)
    _set_context(run, as_context(context))
    return run


def usable_id(value: object) -> str | None:
    """A scope id or subject as the core compares it (a string), or None when it is unusable.

    A usable value is a str that is non-empty after stripping, or an int that is not a bool
    (``integer_text``); it is compared as a string, so ``42`` and ``"42"`` are the same subject (or
    workspace). Every adapter and consumer judges ids with this one function, so none can disagree
    with the core. A str holding U+0000 is not usable (PostgreSQL cannot store it, and SQLite's JSON
    functions end the text there: ``"w1\x00x"`` would compare as ``"w1"``), nor a lone surrogate."""
    if isinstance(value, str):
        encodes = value.isascii() or value.encode(errors="replace").decode() == value
        return value if encodes and value.strip() and "\x00" not in value else None
    return integer_text(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _is_aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def sound_run_times(created_at: object, started_at: object, completed_at: object) -> bool:
    """Whether a completed run's timestamps place it in time: the one rule for runs and evidence.

    ``created_at`` and ``completed_at`` are timezone-aware datetimes, ``started_at`` is None or
    one, and the run completed neither before it was created nor before it started. A problem
    run that breaks it needs manual review; a success that breaks it is never evidence. Every
    adapter (memory, SQL ports, pushdown) applies this same rule.
    """
    if not (_is_aware(created_at) and _is_aware(completed_at)):
        return False
    if started_at is not None and not _is_aware(started_at):
        return False
    assert isinstance(created_at, datetime)
    assert isinstance(completed_at, datetime)
    if completed_at < created_at:
        return False
    return not (isinstance(started_at, datetime) and completed_at < started_at)


def _as_statuses(values: Iterable[RunStatus | str] | None) -> frozenset[RunStatus] | None:
    return None if values is None else frozenset(RunStatus(value) for value in values)


@attrs.frozen(kw_only=True)
class RunQuery:
    """Which runs to list: every given filter must hold; None means no filter on that field.

    ``workspace_ids`` is required: a listing never spans scopes the caller did not name (None:
    every run with a usable workspace id, ``VisibleScopes.every_workspace``, read with no id
    list). ``environment_ids`` narrows within them (workspace-owned runs, with no environment,
    only with ``include_workspace_runs``); ``created_from`` is inclusive, ``created_before`` not.

    ``as_of`` lists the runs as they were at that instant (see ``run_as_of``): a run created
    after it is left out, and a run that completed after it is listed as the active run it was
    then. ``statuses`` then filters on the status at ``as_of``.
    """

    workspace_ids: frozenset[str] | None = attrs.field(converter=as_optional_names)
    environment_ids: frozenset[str] | None = attrs.field(default=None, converter=as_optional_names)
    include_workspace_runs: bool = True
    operation_types: frozenset[str] | None = attrs.field(default=None, converter=as_optional_names)
    statuses: frozenset[RunStatus] | None = attrs.field(default=None, converter=_as_statuses)
    created_from: datetime | None = None
    created_before: datetime | None = None
    as_of: datetime | None = None


def _aware_or_none(value: object) -> datetime | None:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    return None


def run_as_of(run: OperationRun, as_of: datetime) -> OperationRun | None:
    """The run as it was at ``as_of``: None when it did not exist yet.

    - created after ``as_of``: it did not exist (None);
    - completed after ``as_of``: it was still active, so it has no outcome and no
      ``completed_at``; it was running when it had started by then (its ``started_at``, when
      recorded, is at or before ``as_of``; with none recorded its event start is its
      ``created_at``), else queued (and its ``started_at`` is dropped);
    - running, but started after ``as_of``: it was queued.

    Every other run is returned unchanged (the same object). A timestamp that cannot be placed
    in time (missing, naive, not a datetime) changes nothing: the run is returned as stored, for
    the core to flag, never dropped. A run whose ``created_at`` cannot be placed is such a run:
    whether it existed at ``as_of`` is unknown.
    """
    created = _aware_or_none(run.created_at)
    if created is None:
        return run
    if created > as_of:
        return None
    status = run.status
    if status is RunStatus.COMPLETED:
        completed = _aware_or_none(run.completed_at)
        if completed is None or completed <= as_of:
            return run
        started = _aware_or_none(run.started_at)
        if started is not None and started > as_of:
            return attrs.evolve(
                run, status=RunStatus.QUEUED, outcome=None, started_at=None, completed_at=None
            )
        return attrs.evolve(run, status=RunStatus.RUNNING, outcome=None, completed_at=None)
    if status is RunStatus.RUNNING:
        started = _aware_or_none(run.started_at)
        if started is not None and started > as_of:
            return attrs.evolve(run, status=RunStatus.QUEUED, started_at=None)
    return run


@attrs.frozen(kw_only=True)
class RunPage:
    """One page of runs, newest first, and the cursor for the next page (None on the last)."""

    runs: Sequence[OperationRun]
    next_cursor: str | None
