"""Operation runs as the host records them: immutable history, judged but never changed."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, MutableSequence, MutableSet
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NoReturn
from uuid import UUID

import attrs

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
    if isinstance(value, str):
        try:
            return RunStatus(value)
        except ValueError:
            pass
    return value


def as_outcome(value: object) -> RunOutcome | object:
    """Turn a known outcome string into a ``RunOutcome``; keep anything else (and None) as is."""
    if isinstance(value, str):
        try:
            return RunOutcome(value)
        except ValueError:
            pass
    return value


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
        # Registered before it is filled, so a cyclic structure becomes a frozen cycle.
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
    A context of plain values, the common case, costs one shallow copy as before.
    """
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
            memo: dict[int, object] = {}
            return MappingProxyType({key: _frozen(item, memo) for key, item in copy.items()})
    return MappingProxyType(copy)


def as_names(values: Iterable[str]) -> frozenset[str]:
    """Freeze names given as any iterable (one string counts as one name)."""
    return frozenset((values,) if isinstance(values, str) else values)


def as_optional_names(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else as_names(values)


def _check_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # The id is the one field a result cannot do without, so it is checked here rather than
    # turned into a manual-review result like every other bad field.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"OperationRun.id must be a str or an int, not {value!r}")


@attrs.frozen(kw_only=True)
class OperationRun:
    """One execution of an operation, exactly as recorded.

    Fields other than ``id`` are stored as given, even when they are malformed (a naive datetime,
    an unknown status, a context that is not a mapping): the core turns such a run into a
    ``requires_manual_review`` result with a reason naming the fault, so one bad row never takes a
    whole dashboard down. Known status and outcome strings become ``RunStatus``/``RunOutcome``.
    """

    id: RunId = attrs.field(validator=_check_id)
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
