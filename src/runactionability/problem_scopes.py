"""What the problem runs of one type, scope and subject share, and the run a policy sees.

A batch plans each distinct (type, workspace, environment, subject) once: its requests, its
family, and what the family's policy asks for when that depends on the type alone. Each problem
run then refers to that shared value, so the core keeps no object of its own per problem run
between planning and deciding; the ``ProblemRun`` a policy sees is built when it is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from runactionability.catalog import OperationCatalog, OperationType
from runactionability.evidence import LaterSuccessRequest, StateRequest
from runactionability.model import OperationRun
from runactionability.policies.base import Family, ProblemRun
from runactionability.policies.rules import type_plan
from runactionability.result import PolicyViolation


@attrs.frozen(eq=False)
class Scoped:
    """The shared part of the problem runs of one type, scope and subject in a batch.

    ``planned`` says whether the batch already asks for what the family's policy plans for
    every run of the type; when the plan may depend on the run, each run is planned.
    ``state_requests`` holds one request per kind, sorted by kind, and is never changed: a value
    that lives from plan to decide is walked by the collector's full collections, so a scope
    keeps the dict alone, and the read-only view a policy sees is made with its run.
    """

    operation_type: OperationType
    family: Family
    later_success_request: LaterSuccessRequest
    state_requests: dict[str, StateRequest]
    planned: bool


# ProblemRun has no validators or converters, so filling its slots directly makes the same value
# as calling the class, at about half the cost; the core makes one per problem run.
_new_object = object.__new__
_set_run = ProblemRun.__dict__["run"].__set__
_set_type = ProblemRun.__dict__["operation_type"].__set__
_set_success = ProblemRun.__dict__["later_success_request"].__set__
_set_states = ProblemRun.__dict__["state_requests"].__set__
# The state requests of a scope whose family asks for none: one value for every such run.
_NO_STATES: Mapping[str, StateRequest] = MappingProxyType({})
_MAPPING_PROXY = MappingProxyType


_set_scoped = tuple(Scoped.__dict__[name].__set__ for name in attrs.fields_dict(Scoped))


def new_scoped(
    operation_type: OperationType,
    family: Family,
    later_success_request: LaterSuccessRequest,
    state_requests: dict[str, StateRequest],
    planned: bool,
) -> Scoped:
    """``Scoped(...)``, its slots filled directly (it neither validates nor converts)."""
    scoped = _new_object(Scoped)
    set_type, set_family, set_success, set_states, set_planned = _set_scoped
    set_type(scoped, operation_type)
    set_family(scoped, family)
    set_success(scoped, later_success_request)
    set_states(scoped, state_requests)
    set_planned(scoped, planned)
    return scoped


TypeFacts = tuple[Family, tuple[str, ...], tuple[str, ...], tuple[bool, tuple[str, ...]] | None]


def type_facts(
    op_type: OperationType, family: Family, catalog: OperationCatalog, state_kinds: frozenset[str]
) -> TypeFacts:
    """What every scope of a type shares: its family, the stored names whose success supersedes
    it, the state kinds of its family a source serves (sorted), and what its policy plans for
    every run of the type (``type_plan``; None when the plan may depend on the run)."""
    return (
        family,
        catalog.superseding_names(op_type.name),
        tuple(sorted(family.state_kinds & state_kinds)),
        type_plan(family.policy, op_type.name),
    )


class Batch:
    """What ``plan`` gathers from a batch's problem runs."""

    def __init__(self, as_of: datetime) -> None:
        self.as_of = as_of
        self.indexes: list[int] = []
        self.runs: list[OperationRun] = []
        self.scopes: list[Scoped] = []
        self.success_requests: set[LaterSuccessRequest] = set()
        self.state_requests: dict[str, set[StateRequest]] = {}
        self.scope_cache: dict[tuple[Any, ...], Scoped] = {}
        self.violations: list[PolicyViolation] = []

    def ask(self, requests: Iterable[LaterSuccessRequest | StateRequest]) -> None:
        """Add a problem run's own requests to what the batch fetches."""
        for request in requests:
            if request.__class__ is LaterSuccessRequest:
                self.success_requests.add(request)
            elif request.__class__ is StateRequest:
                self.state_requests.setdefault(request.kind, set()).add(request)


def problem_run(run: OperationRun, scoped: Scoped) -> ProblemRun:
    """``run`` as its policy sees it, placed in the scope it shares with others."""
    problem = _new_object(ProblemRun)
    _set_run(problem, run)
    _set_type(problem, scoped.operation_type)
    _set_success(problem, scoped.later_success_request)
    states = scoped.state_requests
    _set_states(problem, _MAPPING_PROXY(states) if states else _NO_STATES)
    return problem


def own_requests(
    requested: Iterable[object], scoped: Scoped
) -> Iterable[LaterSuccessRequest | StateRequest]:
    """The requests a policy asked for that are its run's own: only those are fetched.

    A policy cannot even look at evidence from another scope or subject, or at a kind its
    family did not declare.
    """
    own_success = scoped.later_success_request
    for request in requested:
        if request.__class__ is LaterSuccessRequest:
            if request is own_success or request == own_success:
                yield own_success
        elif request.__class__ is StateRequest:
            own = scoped.state_requests.get(request.kind)
            if own is not None and (own is request or own == request):
                yield own
