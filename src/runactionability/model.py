"""Operation runs as the host records them: immutable history, judged but never changed."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

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


def as_context(value: object) -> Mapping[str, Any] | object:
    """Freeze a mapping into a read-only view; keep a non-mapping for the core to flag."""
    if isinstance(value, MappingProxyType):
        return value
    if isinstance(value, Mapping):
        return MappingProxyType(dict(value))
    return value


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
