"""The one-pass record check of a run stored the common way, and the key its scope is kept under.

``RECORD_CHECKS`` (``runactionability.checks``) is the rule: one call per check, in order, for any
run. Most hosts store every problem run the same plain way (``datetime`` values with a zone, a
frozen context, ``str`` or ``int`` ids), and ``plain_scope`` passes such a run in one pass over
its fields instead; whatever it does not recognise goes through the table. The core keys its
per-scope work (the later-success request, the state lookups) by what these return.
"""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType
from typing import Any

from runactionability.catalog import OperationType
from runactionability.limits import SHORT_INTEGER_BITS
from runactionability.model import OperationRun, RunOutcome, RunStatus, usable_id

_COMPLETED = RunStatus.COMPLETED
_DATETIME = datetime
_MAPPING_PROXY = MappingProxyType
_PLAIN = frozenset({str, int, type(None)})
# An int longer than this may have more digits than any reader takes: the table judges it.
_SHORT = SHORT_INTEGER_BITS


def plain_scope(run: OperationRun, op_type: OperationType) -> tuple[Any, ...] | None:
    """``(type name, workspace, environment, subject)`` as stored, when the run (one rule 2 did
    not decide, of a known type) passes every check in the common way; else None.

    One pass over the fields instead of a call per check, for the run most hosts store: a known
    outcome, timezone-aware ``datetime`` values in order, a frozen context, and usable ids that
    are plain ``str`` or ``int`` values (the environment is None for a workspace-owned type, the
    subject None for a type without a subject key). None says nothing about the run: the table
    decides, and may pass it too (a ``datetime`` subclass, say).
    """
    if run.status is not _COMPLETED or run.outcome.__class__ is not RunOutcome:
        return None
    created, started, completed = run.created_at, run.started_at, run.completed_at
    if created.__class__ is not _DATETIME or completed.__class__ is not _DATETIME:
        return None
    if created.utcoffset() is None or completed.utcoffset() is None or completed < created:
        return None
    if started is not None and (
        started.__class__ is not _DATETIME or started.utcoffset() is None or completed < started
    ):
        return None
    context = run.context
    if context.__class__ is not _MAPPING_PROXY:
        return None
    workspace: Any = run.workspace_id
    kind = workspace.__class__
    if not (
        (kind is int and workspace.bit_length() <= _SHORT)
        or (kind is str and workspace.strip() and "\x00" not in workspace)
    ):
        return None
    environment: Any = None
    if not op_type.workspace_owned:
        environment = run.environment_id
        kind = environment.__class__
        if not (
            (kind is int and environment.bit_length() <= _SHORT)
            or (kind is str and environment.strip() and "\x00" not in environment)
        ):
            return None
    subject: Any = None
    if op_type.subject_key is not None:
        subject = context.get(op_type.subject_key)
        kind = subject.__class__
        if not (
            (kind is int and subject.bit_length() <= _SHORT)
            or (kind is str and subject.strip() and "\x00" not in subject)
        ):
            return None
    return (op_type.name, workspace, environment, subject)


def scope_key(run: OperationRun, op_type: OperationType) -> tuple[Any, ...]:
    """``plain_scope``'s key for a run that passed every check in any way.

    Every id is usable (so hashable). A plain str or int is kept as stored, so only a new key
    pays for normalizing it; a subclass may hash like a plain value yet read as another id, so
    its key holds the ids as the core compares them (``usable_id`` of either is the same).
    """
    subject_key = op_type.subject_key
    workspace = run.workspace_id
    environment = None if op_type.workspace_owned else run.environment_id
    subject = None if subject_key is None else run.context.get(subject_key)
    if (
        workspace.__class__ in _PLAIN
        and environment.__class__ in _PLAIN
        and subject.__class__ in _PLAIN
    ):
        return (op_type.name, workspace, environment, subject)
    return (op_type.name, usable_id(workspace), usable_id(environment), usable_id(subject))
