"""The dashboard summary: every count, list and action from one list of assessments."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType

import attrs

from runactionability.consumers.actions import ActiveRuns
from runactionability.consumers.assess import Assessment, assess
from runactionability.consumers.scopes import VisibleScopes, scope_id
from runactionability.model import OperationRun, RunId, RunStatus
from runactionability.ports import RunQuery, RunSource
from runactionability.resolver import Resolver
from runactionability.result import Actionability

_OLDEST = datetime.min.replace(tzinfo=UTC)

EnvironmentKey = tuple[str, str | None]
"""(workspace id, environment id); the environment is None for workspace-owned runs."""


@attrs.frozen(kw_only=True)
class StatusCounts:
    """How many runs have each actionability status (every status present, zeros included)."""

    total: int
    needs_attention: int
    by_status: Mapping[Actionability, int]

    @classmethod
    def of(cls, items: Iterable[Assessment]) -> StatusCounts:
        by_status = dict.fromkeys(Actionability, 0)
        for item in items:
            by_status[item.status] += 1
        return cls(
            total=sum(by_status.values()),
            needs_attention=sum(n for status, n in by_status.items() if status.needs_attention),
            by_status=MappingProxyType(by_status),
        )


@attrs.frozen(kw_only=True)
class ActiveWork:
    """Queued and running work, kept apart from follow-up: it never counts as needing attention.

    ``by_type`` counts by canonical type (the stored name when the type is unknown); ``newest``
    holds the most recently created active runs.
    """

    queued: int
    running: int
    by_type: Mapping[str, int]
    newest: tuple[Assessment, ...]

    @property
    def total(self) -> int:
        return self.queued + self.running


@attrs.frozen(kw_only=True)
class DashboardSummary:
    """What an operations dashboard shows for an actor's visible scopes at ``as_of``.

    ``needs_attention`` equals ``counts.needs_attention`` and the sum over families and over
    environments, because all come from the same assessments. ``top`` holds the runs needing
    attention, most recently completed first, each with its explanation and primary action.
    """

    scopes: VisibleScopes
    as_of: datetime
    counts: StatusCounts
    by_family: Mapping[str | None, StatusCounts]
    by_environment: Mapping[EnvironmentKey, StatusCounts]
    top: tuple[Assessment, ...]
    active: ActiveWork

    @property
    def needs_attention(self) -> int:
        return self.counts.needs_attention


def _instant(value: object) -> datetime:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    return _OLDEST


def _id_key(run_id: RunId) -> tuple[bool, RunId]:
    # Ints order numerically and strings lexically, as a database orders one typed id column.
    return (isinstance(run_id, str), run_id)


def _recency(item: Assessment) -> tuple[datetime, datetime, tuple[bool, RunId]]:
    run = item.run
    return (_instant(run.completed_at), _instant(run.created_at), _id_key(run.id))


def summarize(
    assessments: Iterable[Assessment],
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    top: int = 10,
) -> DashboardSummary:
    """Summarize assessments for ``scopes``; any assessment outside them is left out."""
    items = [item for item in assessments if scopes.admits_run(item.run)]
    by_family: dict[str | None, list[Assessment]] = {}
    by_environment: dict[EnvironmentKey, list[Assessment]] = {}
    for item in items:
        by_family.setdefault(item.result.family, []).append(item)
        workspace_id = scope_id(item.run.workspace_id)
        if workspace_id is not None:
            env_key = (workspace_id, scope_id(item.run.environment_id))
            by_environment.setdefault(env_key, []).append(item)
    attention = sorted((i for i in items if i.needs_attention), key=_recency, reverse=True)
    active = [item for item in items if item.is_active]
    by_type: dict[str, int] = {}
    for item in active:
        name = item.result.operation_type or str(item.run.type)
        by_type[name] = by_type.get(name, 0) + 1
    return DashboardSummary(
        scopes=scopes,
        as_of=as_of,
        counts=StatusCounts.of(items),
        by_family=MappingProxyType(
            {
                name: StatusCounts.of(group)
                for name, group in sorted(
                    by_family.items(), key=lambda kv: (kv[0] is None, kv[0] or "")
                )
            }
        ),
        by_environment=MappingProxyType(
            {
                key: StatusCounts.of(group)
                for key, group in sorted(
                    by_environment.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
                )
            }
        ),
        top=tuple(attention[:top]),
        active=ActiveWork(
            queued=sum(1 for item in active if item.run.status is RunStatus.QUEUED),
            running=sum(1 for item in active if item.run.status is RunStatus.RUNNING),
            by_type=MappingProxyType(dict(sorted(by_type.items()))),
            newest=tuple(
                sorted(
                    active,
                    key=lambda i: (_instant(i.run.created_at), _id_key(i.run.id)),
                    reverse=True,
                )[:top]
            ),
        ),
    )


def read_runs(
    source: RunSource,
    query: RunQuery,
    *,
    page_size: int = 1000,
    on_page: Callable[[int], None] | None = None,
) -> list[OperationRun]:
    """Every run ``query`` matches, read page by page (``on_page`` hears each page's size)."""
    runs: list[OperationRun] = []
    cursor: str | None = None
    while True:
        page = source.list_runs(query, limit=page_size, cursor=cursor)
        runs.extend(page.runs)
        if on_page is not None:
            on_page(len(page.runs))
        cursor = page.next_cursor
        if cursor is None or not page.runs:
            return runs


def dashboard(
    source: RunSource,
    resolver: Resolver,
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    top: int = 10,
    created_from: datetime | None = None,
    on_page: Callable[[int], None] | None = None,
) -> DashboardSummary:
    """The dashboard summary of every run of ``scopes`` (created since ``created_from``).

    The runs are evaluated in one batch, so counts, the top list and the actions come from one
    list of results.
    """
    runs = read_runs(source, scopes.query(created_from=created_from), on_page=on_page)
    active = ActiveRuns(runs, catalog=resolver.catalog, scopes=scopes)
    items = assess(resolver, runs, scopes=scopes, as_of=as_of, active=active)
    return summarize(items, scopes=scopes, as_of=as_of, top=top)
