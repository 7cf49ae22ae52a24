"""The record checks of rules 3 and 4, in order: one table the core walks and the SQL compiles.

A problem run (one that rule 2 did not decide: not succeeded, and not active without an outcome)
goes through ``RECORD_CHECKS`` before its policy. The first check that fails gives the run's
reason and its one-sentence explanation, and the run needs manual review. The order is the
precedence of the reasons: a run with an unknown status and a naive timestamp is
``invalid_status``. ``docs/concepts.md`` lists the table in this order (a test compares them), and
the SQL pushdown has one compilation per check, keyed by its name.

Each check's ``test`` takes the run and its operation type (None when the type is not in the
catalog or its family is not registered) and returns the explanation (a ``Message``) when the
run fails it, else None. A check after ``known_type`` may rely on the type; the ones before it
must not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from runactionability.catalog import OperationType
from runactionability.limits import MAX_CONTEXT_DEPTH, TOO_DEEP_CONTEXT, json_too_deep, written
from runactionability.messages import Message, msg
from runactionability.model import OperationRun, RunOutcome, RunStatus, as_stored, usable_id
from runactionability.policies.base import type_label
from runactionability.result import Reason
from runactionability.terms import run_status_name

CheckTest = Callable[[OperationRun, OperationType | None], Message | None]

_COMPLETED = RunStatus.COMPLETED
_QUEUED = RunStatus.QUEUED
_RUNNING = RunStatus.RUNNING
_DATETIME = datetime
_MAPPING_PROXY = MappingProxyType


@attrs.frozen
class RecordCheck:
    """One row of the table: what a run must satisfy, the reason it yields when it does not."""

    name: str
    reason: Reason
    reads: tuple[str, ...]
    description: str
    test: CheckTest = attrs.field(repr=False, eq=False)


def _outcome_on_active_run(run: OperationRun, op_type: OperationType | None) -> Message | None:
    # An active run without an outcome was decided by rule 2, so an active one here has one.
    status = run.status
    if status is _QUEUED or status is _RUNNING:
        return msg(
            "check.outcome_on_active_run",
            "The run is {status} yet records the outcome {outcome}.",
            status=run_status_name(status),
            outcome=written(as_stored(run.outcome)),
        )
    return None


def _known_status(run: OperationRun, op_type: OperationType | None) -> Message | None:
    if run.status is not _COMPLETED:
        return msg(
            "check.unknown_status",
            "The run's status {status} is not known.",
            status=written(as_stored(run.status)),
        )
    return None


def _outcome_recorded(run: OperationRun, op_type: OperationType | None) -> Message | None:
    if run.outcome is None:
        return msg("check.missing_outcome", "The run is completed but records no outcome.")
    return None


def _known_outcome(run: OperationRun, op_type: OperationType | None) -> Message | None:
    outcome = run.outcome
    if outcome.__class__ is not RunOutcome and not isinstance(outcome, RunOutcome):
        return msg(
            "check.unknown_outcome",
            "The run's outcome {outcome} is not known.",
            outcome=written(as_stored(outcome)),
        )
    return None


def _known_type(run: OperationRun, op_type: OperationType | None) -> Message | None:
    if op_type is None:
        return msg(
            "check.unknown_type",
            "The operation type {type} is not in the catalog, so no policy can judge the run "
            "safely.",
            type=written(run.type),
        )
    return None


def _not_a_datetime(value: object, what: str) -> Message:
    # ``what`` is a column of the run record (created_at), named as the host's data names it.
    if value is None:
        return msg("check.missing_instant", "The run is completed but has no {field}.", field=what)
    return msg(
        "check.not_a_datetime",
        "The run's {field} {value} is not a datetime.",
        field=what,
        value=written(value),
    )


def _naive(what: str) -> Message:
    return msg(
        "check.naive_instant",
        "The run's {field} has no time zone, so its order against other events is unknown.",
        field=what,
    )


# One function per field and check, not one built per field: the core calls each for every
# problem run, and a plain attribute read is what keeps the walk as fast as the code it replaced.
def _created_at_datetime(run: OperationRun, op_type: OperationType | None) -> Message | None:
    value = run.created_at
    if value.__class__ is _DATETIME or isinstance(value, datetime):
        return None
    return _not_a_datetime(value, "created_at")


def _created_at_aware(run: OperationRun, op_type: OperationType | None) -> Message | None:
    return _naive("created_at") if run.created_at.utcoffset() is None else None


def _started_at_datetime(run: OperationRun, op_type: OperationType | None) -> Message | None:
    value = run.started_at
    if value is None or value.__class__ is _DATETIME or isinstance(value, datetime):
        return None
    return _not_a_datetime(value, "started_at")


def _started_at_aware(run: OperationRun, op_type: OperationType | None) -> Message | None:
    value = run.started_at
    return _naive("started_at") if value is not None and value.utcoffset() is None else None


def _completed_at_datetime(run: OperationRun, op_type: OperationType | None) -> Message | None:
    value = run.completed_at
    if value.__class__ is _DATETIME or isinstance(value, datetime):
        return None
    return _not_a_datetime(value, "completed_at")


def _completed_at_aware(run: OperationRun, op_type: OperationType | None) -> Message | None:
    return _naive("completed_at") if run.completed_at.utcoffset() is None else None


def _completed_at_present(run: OperationRun, op_type: OperationType | None) -> Message | None:
    if run.completed_at is None:
        return _not_a_datetime(None, "completed_at")
    return None


def _completed_after_created(run: OperationRun, op_type: OperationType | None) -> Message | None:
    if run.completed_at < run.created_at:
        return msg(
            "check.completed_before_created",
            "The run's completed_at is earlier than its created_at.",
        )
    return None


def _completed_after_started(run: OperationRun, op_type: OperationType | None) -> Message | None:
    started_at = run.started_at
    if started_at is not None and run.completed_at < started_at:
        return msg(
            "check.completed_before_started",
            "The run's completed_at is earlier than its started_at.",
        )
    return None


def _context_mapping(run: OperationRun, op_type: OperationType | None) -> Message | None:
    context = run.context
    if context.__class__ is not _MAPPING_PROXY and not isinstance(context, Mapping):
        # The text a reader keeps of a context nested too deep (or into itself): its own
        # message, not "a str", which would send the host looking for a type error.
        if isinstance(context, str) and (context == TOO_DEEP_CONTEXT or json_too_deep(context)):
            return msg(
                "check.context_too_deep",
                "The run's context nests arrays and objects deeper than {limit} levels.",
                limit=MAX_CONTEXT_DEPTH,
            )
        return msg(
            "check.context_not_mapping",
            "The run's context is a {kind}, not a mapping.",
            kind=type(context).__name__,
        )
    return None


def _usable_workspace(run: OperationRun, op_type: OperationType | None) -> Message | None:
    if usable_id(run.workspace_id) is None:
        return msg(
            "check.unusable_workspace",
            "The run's workspace id {workspace_id} is not a usable id.",
            workspace_id=written(run.workspace_id),
        )
    return None


def _environment_named(run: OperationRun, op_type: OperationType | None) -> Message | None:
    if run.environment_id is None and op_type is not None and not op_type.workspace_owned:
        return msg(
            "check.missing_environment",
            "A {type} run belongs to an environment, but this one names none.",
            type=type_label(op_type),
        )
    return None


def _usable_environment(run: OperationRun, op_type: OperationType | None) -> Message | None:
    # A workspace-owned type ignores the environment id, so only an unusable one asks whose.
    unusable = usable_id(run.environment_id) is None
    if unusable and op_type is not None and not op_type.workspace_owned:
        return msg(
            "check.unusable_environment",
            "The run's environment id {environment_id} is not a usable id.",
            environment_id=written(run.environment_id),
        )
    return None


def _usable_subject(run: OperationRun, op_type: OperationType | None) -> Message | None:
    key = None if op_type is None else op_type.subject_key
    if key is not None and usable_id(run.context.get(key)) is None:
        return msg(
            "check.missing_correlation",
            "The run's context has no usable {key}, so no later run or state can be tied to it.",
            key=repr(key),
        )
    return None


RECORD_CHECKS: tuple[RecordCheck, ...] = (
    RecordCheck(
        "outcome_on_active_run",
        Reason.OUTCOME_ON_ACTIVE_RUN,
        ("status", "outcome"),
        "a queued or running run records no outcome",
        _outcome_on_active_run,
    ),
    RecordCheck(
        "known_status",
        Reason.INVALID_STATUS,
        ("status",),
        "the status is `queued`, `running` or `completed`",
        _known_status,
    ),
    RecordCheck(
        "outcome_recorded",
        Reason.MISSING_OUTCOME,
        ("outcome",),
        "a completed run records an outcome",
        _outcome_recorded,
    ),
    RecordCheck(
        "known_outcome",
        Reason.INVALID_OUTCOME,
        ("outcome",),
        "the outcome is a known outcome",
        _known_outcome,
    ),
    RecordCheck(
        "known_type",
        Reason.UNKNOWN_OPERATION_TYPE,
        ("type",),
        "the type (or alias) is in the catalog and its family is registered",
        _known_type,
    ),
    RecordCheck(
        "created_at_datetime",
        Reason.INVALID_TIMESTAMP,
        ("created_at",),
        "`created_at` is present and a datetime",
        _created_at_datetime,
    ),
    RecordCheck(
        "created_at_aware",
        Reason.NAIVE_TIMESTAMP,
        ("created_at",),
        "`created_at` has a time zone",
        _created_at_aware,
    ),
    RecordCheck(
        "started_at_datetime",
        Reason.INVALID_TIMESTAMP,
        ("started_at",),
        "`started_at` is absent or a datetime",
        _started_at_datetime,
    ),
    RecordCheck(
        "started_at_aware",
        Reason.NAIVE_TIMESTAMP,
        ("started_at",),
        "`started_at`, when present, has a time zone",
        _started_at_aware,
    ),
    RecordCheck(
        "completed_at_present",
        Reason.MISSING_COMPLETED_AT,
        ("completed_at",),
        "a completed run has a `completed_at`",
        _completed_at_present,
    ),
    RecordCheck(
        "completed_at_datetime",
        Reason.INVALID_TIMESTAMP,
        ("completed_at",),
        "`completed_at` is a datetime",
        _completed_at_datetime,
    ),
    RecordCheck(
        "completed_at_aware",
        Reason.NAIVE_TIMESTAMP,
        ("completed_at",),
        "`completed_at` has a time zone",
        _completed_at_aware,
    ),
    RecordCheck(
        "completed_after_created",
        Reason.COMPLETED_BEFORE_CREATED,
        ("created_at", "completed_at"),
        "`completed_at` is not earlier than `created_at`",
        _completed_after_created,
    ),
    RecordCheck(
        "completed_after_started",
        Reason.COMPLETED_BEFORE_STARTED,
        ("started_at", "completed_at"),
        "`completed_at` is not earlier than `started_at`",
        _completed_after_started,
    ),
    RecordCheck(
        "context_mapping",
        Reason.INVALID_CONTEXT,
        ("context",),
        "the context is a mapping",
        _context_mapping,
    ),
    RecordCheck(
        "usable_workspace",
        Reason.INVALID_SCOPE,
        ("workspace_id",),
        "the workspace id is usable",
        _usable_workspace,
    ),
    RecordCheck(
        "environment_named",
        Reason.MISSING_ENVIRONMENT,
        ("type", "environment_id"),
        "an environment-owned type's run names an environment",
        _environment_named,
    ),
    RecordCheck(
        "usable_environment",
        Reason.INVALID_SCOPE,
        ("type", "environment_id"),
        "an environment-owned type's environment id is usable",
        _usable_environment,
    ),
    RecordCheck(
        "usable_subject",
        Reason.MISSING_CORRELATION,
        ("type", "context"),
        "a type with a subject key finds a usable subject under it in the context",
        _usable_subject,
    ),
)
"""The record checks, in the order the core applies them (the first failure decides)."""
