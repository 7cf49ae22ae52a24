"""runactionability: which operation runs need an operator's attention now, and why.

History stays as recorded; the current actionability of every run is derived from the run, later
runs in the same scope, and current domain state, by a policy per operation family. Every result
carries a reason code, a one-sentence explanation and the proof it rests on.
"""

from runactionability.catalog import OperationCatalog, OperationType
from runactionability.consumers import (
    ActiveWork,
    Assessment,
    DashboardSummary,
    Explanation,
    StatusCounts,
    View,
    VisibleScopes,
    assess,
    current_follow_up,
    dashboard,
    explain,
    summarize,
)
from runactionability.core import PolicyViolation
from runactionability.errors import (
    CatalogError,
    ConfigurationError,
    ConflictError,
    CoverageError,
    DuplicateRunError,
    EvidenceFetchError,
    InvalidCursorError,
    MissingStateSourceError,
    MissingStateSourceWarning,
    PluginError,
    RunActionabilityError,
    RunActionabilityWarning,
    UsageError,
)
from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest
from runactionability.hookspecs import hookimpl
from runactionability.model import OperationRun, Ownership, RunId, RunOutcome, RunStatus
from runactionability.policies.base import Evidence, Family, Policy, ProblemRun, Risk, Rule
from runactionability.policies.rules import (
    AlwaysInformational,
    AlwaysManualReview,
    FirstDecisive,
    InformationalWhen,
    OpenRelatedAction,
    ResolvedByState,
    RetryAction,
    SupersededByLaterSuccess,
)
from runactionability.ports import RunHistory, RunPage, RunQuery, RunSource, StateSource
from runactionability.registry import Registry
from runactionability.resolver import AsyncResolver, Resolver
from runactionability.result import (
    Actionability,
    ActionabilityResult,
    ActionKind,
    Decision,
    PrimaryAction,
    Proof,
    Reason,
    Verdict,
)

__all__ = [
    "ActionKind",
    "Actionability",
    "ActionabilityResult",
    "ActiveWork",
    "AlwaysInformational",
    "AlwaysManualReview",
    "Assessment",
    "AsyncResolver",
    "CatalogError",
    "ConfigurationError",
    "ConflictError",
    "CoverageError",
    "DashboardSummary",
    "Decision",
    "DuplicateRunError",
    "Evidence",
    "EvidenceFetchError",
    "Explanation",
    "Family",
    "FirstDecisive",
    "InformationalWhen",
    "InvalidCursorError",
    "LaterSuccessRequest",
    "MissingStateSourceError",
    "MissingStateSourceWarning",
    "OpenRelatedAction",
    "OperationCatalog",
    "OperationRun",
    "OperationType",
    "Ownership",
    "PluginError",
    "Policy",
    "PolicyViolation",
    "PrimaryAction",
    "ProblemRun",
    "Proof",
    "Reason",
    "Registry",
    "ResolvedByState",
    "Resolver",
    "RetryAction",
    "Risk",
    "Rule",
    "RunActionabilityError",
    "RunActionabilityWarning",
    "RunFact",
    "RunHistory",
    "RunId",
    "RunOutcome",
    "RunPage",
    "RunQuery",
    "RunSource",
    "RunStatus",
    "StateFact",
    "StateRequest",
    "StateSource",
    "StatusCounts",
    "SupersededByLaterSuccess",
    "UsageError",
    "Verdict",
    "View",
    "VisibleScopes",
    "assess",
    "current_follow_up",
    "dashboard",
    "explain",
    "hookimpl",
    "summarize",
]
