"""Helpers that screens call instead of reading "needs follow-up" off a raw run.

Every helper takes the actor's ``VisibleScopes`` and works from one list of results per batch
(``assess``), so a dashboard count, a follow-up list and a run's primary action always agree, and
nothing outside the visible scopes is counted, listed or named.
"""

from runactionability.consumers.actions import is_repeatable, plan_actions
from runactionability.consumers.active_runs import ActiveRuns, KeyedActiveRuns, work_key
from runactionability.consumers.assess import (
    CURRENT_FOLLOW_UP,
    HISTORY,
    Assessment,
    KnownResults,
    assess,
    assess_async,
    assess_results,
    current_follow_up,
    history,
    is_current_follow_up,
    is_history,
)
from runactionability.consumers.dashboard import (
    ActiveWork,
    DashboardSummary,
    dashboard,
    summarize,
)
from runactionability.consumers.explain import Explanation, explain, explain_async, would_change
from runactionability.consumers.listing import AssessedPage, View, list_assessed, read_runs
from runactionability.ports import StoreActiveCounts, StoreCounts, StoreEvaluation, StorePage
from runactionability.result import ActiveCounts, StatusCounts
from runactionability.scopes import VisibleScopes

__all__ = [
    "CURRENT_FOLLOW_UP",
    "HISTORY",
    "ActiveCounts",
    "ActiveRuns",
    "ActiveWork",
    "AssessedPage",
    "Assessment",
    "DashboardSummary",
    "Explanation",
    "KeyedActiveRuns",
    "KnownResults",
    "StatusCounts",
    "StoreActiveCounts",
    "StoreCounts",
    "StoreEvaluation",
    "StorePage",
    "View",
    "VisibleScopes",
    "assess",
    "assess_async",
    "assess_results",
    "current_follow_up",
    "dashboard",
    "explain",
    "explain_async",
    "history",
    "is_current_follow_up",
    "is_history",
    "is_repeatable",
    "list_assessed",
    "plan_actions",
    "read_runs",
    "summarize",
    "work_key",
    "would_change",
]
