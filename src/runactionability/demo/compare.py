"""The demo's side-by-side: what a raw "the run failed" reading shows, and what actionability shows.

Both columns are computed from the same assessments, so the only difference between them is the
question asked of each run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from runactionability.consumers import Assessment, StatusCounts, View
from runactionability.demo.data import DemoData, Headline
from runactionability.model import OperationRun, RunOutcome, RunStatus
from runactionability.service import RequestSession

RAW_NEEDS_ATTENTION = frozenset(
    {RunOutcome.FAILED, RunOutcome.BLOCKED, RunOutcome.PARTIALLY_SUCCEEDED}
)
"""What a raw reading calls a failure: the outcomes an old dashboard put on its follow-up list."""


def raw_label(assessment: Assessment) -> str:
    """The raw reading of one run: its stored status, or its outcome once completed."""
    run = assessment.run
    if run.status is not RunStatus.COMPLETED:
        return str(run.status)
    return str(run.outcome)


@attrs.frozen(kw_only=True)
class Comparison:
    """Raw counts by stored outcome beside actionability counts, and the headline cases."""

    raw_counts: Mapping[str, int]
    raw_needs_attention: int
    counts: StatusCounts
    headlines: tuple[tuple[Headline, Assessment], ...]
    elsewhere: Mapping[Headline, OperationRun]
    """For a headline still needing attention: a later success of its type in another workspace,
    which a scope-blind reading would have taken as proof."""


def every_assessment(session: RequestSession, *, page_size: int = 1000) -> list[Assessment]:
    """Every run the session's actor sees, assessed, newest first, page by page through the
    request API (the listing's own cursors, so no run is skipped or read twice)."""
    items: list[Assessment] = []
    cursor: str | None = None
    while True:
        page = session.page(View.ALL, limit=page_size, cursor=cursor)
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return items


def compare(data: DemoData, assessments: Sequence[Assessment]) -> Comparison:
    """Build the side-by-side from the assessments of every demo run."""
    raw: dict[str, int] = {str(outcome): 0 for outcome in RunOutcome}
    raw.update({str(RunStatus.QUEUED): 0, str(RunStatus.RUNNING): 0})
    for item in assessments:
        label = raw_label(item)
        raw[label] = raw.get(label, 0) + 1
    by_id = {item.run_id: item for item in assessments}
    headlines = tuple(
        (case, by_id[data.headlines[case]])
        for case in Headline
        if data.headlines.get(case) in by_id
    )
    return Comparison(
        raw_counts=raw,
        raw_needs_attention=sum(raw[str(outcome)] for outcome in RAW_NEEDS_ATTENTION),
        counts=StatusCounts.of(assessments),
        headlines=headlines,
        elsewhere={
            case: other
            for case, item in headlines
            if item.needs_attention and (other := _success_elsewhere(item.run, data)) is not None
        },
    )


def _success_elsewhere(run: OperationRun, data: DemoData) -> OperationRun | None:
    later = [
        other
        for other in data.runs
        if other.type == run.type
        and other.workspace_id != run.workspace_id
        and other.outcome is RunOutcome.SUCCEEDED
        and other.created_at >= run.completed_at
    ]
    return max(later, key=lambda other: other.created_at, default=None)
