"""The memory history's index: which successes a request may find, under which key, in order.

``MemoryRunHistory`` files the clean successes of a stored type by scope and subject; these are
its rules for a clean success (``success_key``), the order of a bucket (``bucket_order``), the
fact a success is returned as (``success_fact``), and the first pass that files only the keys a
batch asks for (``maybe_under``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from runactionability.evidence import RunFact
from runactionability.model import (
    OperationRun,
    RunId,
    RunOutcome,
    RunStatus,
    sound_run_times,
    usable_id,
)


def id_key(run_id: RunId) -> tuple[bool, RunId]:
    # Ints order numerically and strings lexically, as a database orders one typed id column.
    return (isinstance(run_id, str), run_id)


BucketKey = tuple[str, str | None, str | None]
IndexKey = tuple[str, str | None, bool]
_PLAIN_SUBJECT = frozenset({str, int, type(None)})
# The successes filed under one key, latest first: a list, or the run itself when it is alone.
Bucket = OperationRun | list[OperationRun]
Order = tuple[datetime, datetime, tuple[bool, RunId]]
_COMPLETED = RunStatus.COMPLETED
_SUCCEEDED = RunOutcome.SUCCEEDED
_DATETIME = datetime
_MAPPING_PROXY = MappingProxyType


def bucket_order(run: OperationRun) -> Order:
    """Latest first: by event start (``started_at``, else ``created_at``), completion, then id."""
    started_at = run.started_at
    start = run.created_at if started_at is None else started_at
    return (start, run.completed_at, id_key(run.id))


def success_key(run: OperationRun, subject_key: str | None) -> BucketKey | None:
    """The scope and subject a clean success is found under, or None (see ``success_fact``)."""
    if run.status is not _COMPLETED or run.outcome is not _SUCCEEDED:
        return None
    created, started, completed = run.created_at, run.started_at, run.completed_at
    if (
        created.__class__ is _DATETIME
        and completed.__class__ is _DATETIME
        and (started is None or started.__class__ is _DATETIME)
    ):
        # sound_run_times for plain datetimes, inline: an index build reads every success.
        if (
            created.utcoffset() is None
            or completed.utcoffset() is None
            or completed < created
            or (started is not None and (started.utcoffset() is None or completed < started))
        ):
            return None
    elif not sound_run_times(created, started, completed):
        return None
    # usable_id, with the plain str and int an index build mostly reads judged inline.
    workspace_id: Any = run.workspace_id
    if workspace_id.__class__ is not str or not workspace_id.strip() or "\x00" in workspace_id:
        workspace_id = usable_id(workspace_id)
        if workspace_id is None:
            return None
    subject: Any = None
    if subject_key is not None:
        context = run.context
        if context.__class__ is not _MAPPING_PROXY and not isinstance(context, Mapping):
            return None
        subject = context.get(subject_key)
        subject = str(subject) if subject.__class__ is int else usable_id(subject)
        if subject is None:
            return None
    environment_id: Any = run.environment_id
    if (
        environment_id.__class__ is not str
        or not environment_id.strip()
        or "\x00" in environment_id
    ):
        environment_id = usable_id(environment_id)
    return (workspace_id, environment_id, subject)


def success_fact(run: OperationRun, subject_key: str | None) -> RunFact | None:
    """The fact a successful run would be returned as, for requests correlating on ``subject_key``.

    None when the run is not a clean success: not completed and succeeded, timestamps that
    break ``core.sound_run_times`` (the rule a failed run is flagged by), no usable workspace,
    or no usable subject under ``subject_key``.
    """
    key = success_key(run, subject_key)
    if key is None:
        return None
    started_at = run.started_at
    return RunFact(
        run_id=run.id,
        operation_type=run.type,
        workspace_id=key[0],
        environment_id=key[1],
        subject=key[2],
        started_at=run.created_at if started_at is None else started_at,
        completed_at=run.completed_at,
        created_at=run.created_at,
    )


def maybe_under(
    runs: Iterable[OperationRun], keys: set[BucketKey], subject_key: str | None, wide: bool
) -> Iterator[OperationRun]:
    """The successes among ``runs`` that may be filed under one of ``keys``.

    A success stored the plain way (str scope ids, a str or int subject in a frozen context) is
    passed only when its ids as stored are one of the keys: a usable str id is compared as it
    is, and an int subject as its decimal text, so the keys are also looked up with a subject
    that reads as an int. Any other run is passed, for ``success_key`` to judge.
    """
    stored: set[tuple[Any, ...]] = set(keys)
    for asked_workspace, asked_environment, asked_subject in keys:
        try:
            number = None if asked_subject is None else int(asked_subject)
        except ValueError:
            continue
        if number is not None and str(number) == asked_subject:
            stored.add((asked_workspace, asked_environment, number))
    for run in runs:
        if run.status is not _COMPLETED or run.outcome is not _SUCCEEDED:
            continue
        workspace: Any = run.workspace_id
        environment: Any = None if wide else run.environment_id
        subject: Any = None
        if subject_key is not None:
            context = run.context
            if context.__class__ is not _MAPPING_PROXY:
                yield run
                continue
            subject = context.get(subject_key)
        if (
            workspace.__class__ is str
            and (environment is None or environment.__class__ is str)
            and subject.__class__ in _PLAIN_SUBJECT
            and (workspace, environment, subject) not in stored
        ):
            continue
        yield run
