"""Run listings with current actionability beside each run's history, page by page."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime

import attrs

from runactionability.consumers.active_runs import ActiveRuns
from runactionability.consumers.assess import (
    CURRENT_FOLLOW_UP,
    HISTORY,
    Assessment,
    KnownResults,
    assess,
)
from runactionability.consumers.shared import shared_with
from runactionability.limits import check_limit
from runactionability.model import OperationRun
from runactionability.ports import RunQuery, RunSource, StoreEvaluation
from runactionability.resolver import Resolver
from runactionability.result import Actionability
from runactionability.scopes import VisibleScopes
from runactionability.telemetry import PAGE, span


class View(enum.StrEnum):
    """Which runs a listing keeps."""

    ALL = "all"
    CURRENT_FOLLOW_UP = "current_follow_up"
    HISTORY = "history"

    def keeps(self, status: Actionability) -> bool:
        if self is View.CURRENT_FOLLOW_UP:
            return status in CURRENT_FOLLOW_UP
        if self is View.HISTORY:
            return status in HISTORY
        return True


@attrs.frozen(kw_only=True)
class AssessedPage:
    """One page of a listing: the kept runs, newest first, and the cursor of the next page.

    A filtered page may hold fewer than ``limit`` runs; only ``next_cursor`` None means the end.
    ``scanned`` counts the runs read to fill the page (kept or not).
    """

    items: tuple[Assessment, ...]
    next_cursor: str | None
    scanned: int


def list_assessed(
    source: RunSource,
    resolver: Resolver,
    *,
    scopes: VisibleScopes,
    as_of: datetime,
    view: View = View.ALL,
    limit: int = 50,
    cursor: str | None = None,
    query: RunQuery | None = None,
    active: ActiveRuns | None = None,
    on_scan: Callable[[int], None] | None = None,
    store: StoreEvaluation | None = None,
    known: KnownResults | None = None,
) -> AssessedPage:
    """A page of the runs of ``scopes``, assessed, keeping only what ``view`` asks for.

    Each read from ``source`` asks for exactly the number of runs still missing from the page, so
    the source's own cursor after the last read marks where the next page starts: no run is
    skipped or shown twice, whatever the filter. Each read is evaluated as one batch. ``query``
    adds filters (types, statuses, a created window) and is always narrowed to ``scopes``; the
    runs are listed as they were at ``as_of`` (``run_as_of``).
    ``on_scan`` is told how many runs each read returned (for progress bars).

    With a ``store`` and no ``query``, the current follow-up view is the store's list: it picks
    the runs (and its cursors are its own), the resolver still explains each one, except the
    runs ``known`` holds (a session's results, ``KnownResults``).
    """
    check_limit(limit)
    with span(PAGE, "runactionability.consumers.list_assessed") as recording:
        recording.set("runactionability.view", view.value)
        if store is not None and query is None and view is View.CURRENT_FOLLOW_UP:
            page = _store_page(
                store, source, resolver, scopes, as_of, limit, cursor, active, on_scan, known
            )
        else:
            page = _page(
                source, resolver, scopes, as_of, view, limit, cursor, query, active, on_scan
            )
        recording.set("runactionability.runs.count", len(page.items))
    return page


def _store_page(
    store: StoreEvaluation,
    source: RunSource,
    resolver: Resolver,
    scopes: VisibleScopes,
    as_of: datetime,
    limit: int,
    cursor: str | None,
    active: ActiveRuns | None,
    on_scan: Callable[[int], None] | None,
    known: KnownResults | None,
) -> AssessedPage:
    listed = store.follow_up_page(scopes, as_of=as_of, limit=limit, cursor=cursor)
    if on_scan is not None:
        on_scan(listed.scanned)
    if active is None:
        active = ActiveRuns.from_source(
            source, catalog=resolver.catalog, scopes=scopes, as_of=as_of
        )
    shared = shared_with(source, listed.runs, scopes, as_of)
    items = assess(
        resolver,
        listed.runs,
        scopes=scopes,
        as_of=as_of,
        active=active,
        shared=shared,
        known=known,
        source=source,
    )
    return AssessedPage(items=tuple(items), next_cursor=listed.next_cursor, scanned=listed.scanned)


def _both(visible: frozenset[str] | None, asked: frozenset[str] | None) -> frozenset[str] | None:
    """The ids both lists hold; None (every id) narrows nothing."""
    if visible is None or asked is None:
        return asked if visible is None else visible
    return visible & asked


def _page(
    source: RunSource,
    resolver: Resolver,
    scopes: VisibleScopes,
    as_of: datetime,
    view: View,
    limit: int,
    cursor: str | None,
    query: RunQuery | None,
    active: ActiveRuns | None,
    on_scan: Callable[[int], None] | None,
) -> AssessedPage:
    scoped = scopes.query(as_of=as_of)
    if query is not None:
        scoped = attrs.evolve(
            query,
            workspace_ids=_both(scoped.workspace_ids, query.workspace_ids),
            # An empty set of visible environments is a restriction too (to none): it is
            # intersected, never read as "no restriction".
            environment_ids=_both(scoped.environment_ids, query.environment_ids),
            include_workspace_runs=scoped.include_workspace_runs and query.include_workspace_runs,
            as_of=as_of,
        )
    if active is None:
        active = ActiveRuns.from_source(
            source, catalog=resolver.catalog, scopes=scopes, as_of=as_of
        )
    kept: list[Assessment] = []
    scanned = 0
    while True:
        page = source.list_runs(scoped, limit=limit - len(kept), cursor=cursor)
        # A source that returns more than the query asked for never lets a hidden run be
        # counted, even as a number read.
        visible = [run for run in page.runs if scopes.admits_run(run)]
        scanned += len(visible)
        if on_scan is not None:
            on_scan(len(visible))
        # An id two visible rows share reads as one flagged id, even across pages.
        shared = shared_with(source, visible, scopes, as_of)
        for item in assess(
            resolver,
            visible,
            scopes=scopes,
            as_of=as_of,
            active=active,
            shared=shared,
            source=source,
        ):
            if view.keeps(item.status):
                kept.append(item)
        cursor = page.next_cursor
        if cursor is None or len(kept) >= limit or not page.runs:
            return AssessedPage(items=tuple(kept), next_cursor=cursor, scanned=scanned)


def read_runs(
    source: RunSource,
    query: RunQuery,
    *,
    page_size: int = 1000,
    on_page: Callable[[int], None] | None = None,
) -> list[OperationRun]:
    """Every run ``query`` matches, read page by page (``on_page`` hears each page's size)."""
    check_limit(page_size, name="page_size")
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
