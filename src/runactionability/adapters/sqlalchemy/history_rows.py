"""What ``SqlRunHistory`` seeks for a request and how it picks each request's answer.

Kept apart from the statement (``history``) so that the joint read (``joint``) and the
history's own read rank candidates alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from runactionability.evidence import LaterSuccessRequest

Candidate = tuple[int, Any, str, Any, Any, Any, Any, Any, Any]
"""(request index, run id, stored type, workspace id, environment id, subject, event start,
completed_at, created_at), instants as the dialect's canonical values (integer microseconds on
SQLite)."""


def keep_best(best: dict[int, Candidate], rows: Iterable[Sequence[Any]], offset: int) -> None:
    """Keep, per request, the best of its rows (one per allowed type and success value)."""
    for candidate in rows:
        index = candidate[0] + offset
        known = best.get(index)
        if known is None or _rank(candidate) > _rank(known):
            best[index] = (index, *candidate[1:])


def environments(request: LaterSuccessRequest) -> list[tuple[str | None, bool | None]]:
    """The environments to seek for a request, each with its shape's environment flag.

    A request confined to visible environments seeks each of them by equality, and runs with no
    environment by ``IS NULL`` when those are visible: a hidden run is never read, so the newest
    visible one is the answer.
    """
    if request.environment_id is not None:
        if not request.admits_environment(request.environment_id):
            return []
        return [(request.environment_id, True)]
    if request.visible_environment_ids is None:
        return [(None, False)]
    environments: list[tuple[str | None, bool | None]] = [
        (environment_id, True) for environment_id in sorted(request.visible_environment_ids)
    ]
    if request.visible_workspace_runs:
        environments.append((None, None))
    return environments


def aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def comparable(request: LaterSuccessRequest) -> bool:
    """Whether the request's ids can be compared exactly in SQL.

    The ids travel in a JSON parameter, and SQLite's JSON functions end a text at U+0000
    (``'w1\\0x'`` would read as ``'w1'``); PostgreSQL cannot store U+0000 in text at all. A
    request naming such an id gets no evidence rather than another scope's.
    """
    return not any(
        "\x00" in value
        for value in (request.workspace_id, request.environment_id, request.subject)
        if value is not None
    )


def _rank(candidate: Any) -> tuple[Any, Any, tuple[bool, Any]]:
    return (candidate[6], candidate[7], _id_key(candidate[1]))


def _id_key(run_id: Any) -> tuple[bool, Any]:
    return (isinstance(run_id, str), run_id)
