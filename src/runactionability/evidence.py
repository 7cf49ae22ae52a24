"""What a policy may ask for (requests) and what the ports answer (facts)."""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, MutableSequence, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

import attrs

from runactionability.limits import value_too_deep
from runactionability.model import RunId

_NO_ATTRIBUTES: Mapping[str, Any] = MappingProxyType({})


def _as_attributes(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of ``value``; none when it nests deeper than ``MAX_CONTEXT_DEPTH`` or
    into itself, as the SQL state sources read such attributes (``states._attributes``): kept,
    they made ordering tied facts by their JSON text recurse past Python's limit."""
    view = value if isinstance(value, MappingProxyType) else MappingProxyType(dict(value))
    for item in view.values():
        if isinstance(item, Mapping | tuple | MutableSequence):
            return _NO_ATTRIBUTES if value_too_deep(view) else view
    return view


_Hashed = TypeVar("_Hashed", bound=type)


def _plain_cached_hash(cls: _Hashed) -> _Hashed:
    """``cls`` (attrs, ``cache_hash=True``) caching its hash as a plain ``int``.

    attrs caches the hash wrapped in an ``int`` subclass, an object the cyclic collector
    tracks: every request a big batch hashes then keeps one more object for the collector to
    walk (a million runs ask for ~100,000 requests). A plain ``int`` is not tracked. The hash
    covers the same fields as equality; attrs still resets the cache on copy and unpickling.
    """
    cache = cls.__dict__["_attrs_cached_hash"]
    get, put = cache.__get__, cache.__set__
    fields = operator.attrgetter(*(field.name for field in attrs.fields(cls) if field.eq))

    def __hash__(self: object) -> int:
        value: int | None = get(self)
        if value is None:
            value = hash(fields(self))
            put(self, value)
        return value

    cls.__hash__ = __hash__  # type: ignore[assignment]
    return cls


# Many problem runs share one request and each use hashes it, so the hash is computed once.
@_plain_cached_hash
@attrs.frozen(kw_only=True, cache_hash=True)
class LaterSuccessRequest:
    """Ask for the latest successful run of some types in one scope and subject.

    ``operation_types`` holds every stored name (canonical and aliases) of the allowed types,
    sorted. ``environment_id`` is None only for workspace-owned types, which are scoped by
    workspace alone. ``subject`` is the correlation value as a string (None for scope-wide
    types), found in a run's context under ``subject_key``.

    ``visible_environment_ids``, when set, confines the answer to what an actor may see (the
    resolver sets it when it evaluates for ``VisibleScopes`` that name environments): only a run
    whose environment is one of these ids, or that has no environment when
    ``visible_workspace_runs`` is true, may be returned. A run outside them is not evidence for
    that actor, so an older visible run is the answer when the newest one is hidden.
    """

    operation_types: tuple[str, ...]
    workspace_id: str
    environment_id: str | None
    subject_key: str | None
    subject: str | None
    visible_environment_ids: frozenset[str] | None = None
    visible_workspace_runs: bool = True

    def admits_environment(self, environment_id: str | None) -> bool:
        """Whether a run in this environment (None: no environment) may answer the request."""
        if self.visible_environment_ids is None:
            return True
        if environment_id is None:
            return self.visible_workspace_runs
        return environment_id in self.visible_environment_ids


@_plain_cached_hash
@attrs.frozen(kw_only=True, cache_hash=True)
class StateRequest:
    """Ask for the current state of one kind of domain object in one scope and subject."""

    kind: str
    workspace_id: str
    environment_id: str | None
    subject: str | None


EvidenceRequest = LaterSuccessRequest | StateRequest

# The core makes a request of each kind for every scope a batch's problem runs share (tens of
# thousands in a big batch). Neither class validates or converts, so filling the slots directly
# (the cached hash left empty, as attrs leaves it) makes the same value as calling the class, in
# less than half the time.
_new_object = object.__new__
_types, _workspace, _environment, _subject_key, _subject, _visible, _workspace_runs, _hash = (
    LaterSuccessRequest.__dict__[name].__set__
    for name in (*attrs.fields_dict(LaterSuccessRequest), "_attrs_cached_hash")
)
_kind, _state_workspace, _state_environment, _state_subject, _state_hash = (
    StateRequest.__dict__[name].__set__
    for name in (*attrs.fields_dict(StateRequest), "_attrs_cached_hash")
)


def new_success_request(
    operation_types: tuple[str, ...],
    workspace_id: str,
    environment_id: str | None,
    subject_key: str | None,
    subject: str | None,
) -> LaterSuccessRequest:
    """``LaterSuccessRequest(...)`` with these fields, visible to every actor."""
    request = _new_object(LaterSuccessRequest)
    _types(request, operation_types)
    _workspace(request, workspace_id)
    _environment(request, environment_id)
    _subject_key(request, subject_key)
    _subject(request, subject)
    _visible(request, None)
    _workspace_runs(request, True)
    _hash(request, None)
    return request


def new_state_request(
    kind: str, workspace_id: str, environment_id: str | None, subject: str | None
) -> StateRequest:
    """``StateRequest(kind=..., ...)``."""
    request = _new_object(StateRequest)
    _kind(request, kind)
    _state_workspace(request, workspace_id)
    _state_environment(request, environment_id)
    _state_subject(request, subject)
    _state_hash(request, None)
    return request


@attrs.frozen(kw_only=True)
class RunFact:
    """A successful run that a history port returned.

    ``operation_type`` is the type as stored (the core canonicalizes it); ``started_at`` is the
    event start: the run's ``started_at``, else its ``created_at``. Scope ids and the subject are
    strings, the values stored with the run (never copied from the request); ``run_id`` is the id
    as the host stores it. ``created_at`` is the run's own, when the port read it (the built-in
    ports do): the core then also refuses a run that completed before it was created.
    """

    run_id: RunId
    operation_type: str
    workspace_id: str
    environment_id: str | None
    subject: str | None
    started_at: datetime
    completed_at: datetime
    # Not part of equality: a fact compares as it did before ports read the run's created_at.
    created_at: datetime | None = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class StateFact:
    """The current state of one domain object, as a state source proved it at ``proven_at``."""

    kind: str
    workspace_id: str
    environment_id: str | None
    subject: str | None
    status: str
    proven_at: datetime
    attributes: Mapping[str, Any] = attrs.field(factory=dict, converter=_as_attributes)


def current_state(newest: Sequence[StateFact]) -> StateFact | None:
    """The current state of one object, given its facts that share the greatest ``proven_at``.

    None (no fact) when any of them has no usable status (not a string) or when their statuses
    differ: two states proven at one instant are ambiguous, and ambiguity is not evidence. When
    they agree, the one whose attributes come first as canonical JSON text is returned, so the
    answer never depends on the order the facts were recorded or stored in. The SQL state source
    applies the same rule to the rows it reads.
    """
    if not newest:
        return None
    status = newest[0].status
    if not isinstance(status, str) or any(fact.status != status for fact in newest):
        return None
    return min(newest, key=_attributes_order)


def _attributes_order(fact: StateFact) -> str:
    try:
        return json.dumps(
            fact.attributes, sort_keys=True, separators=(",", ":"), default=_json_default
        )
    except (TypeError, ValueError):
        # Keys of mixed types cannot be sorted; their repr is still the same on every call.
        return repr(fact.attributes)


def _json_default(value: object) -> object:
    return dict(value) if isinstance(value, Mapping) else repr(value)
