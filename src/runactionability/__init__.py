"""runactionability: which operation runs need an operator's attention now, and why.

History stays as recorded; the current actionability of every run is derived from the run, later
runs in the same scope, and current domain state, by a policy per operation family. Every result
carries a reason code, a one-sentence explanation and the proof it rests on.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version
from typing import TYPE_CHECKING, Any

from runactionability.catalog import InventoryEntry, OperationCatalog, OperationType
from runactionability.catalog.profiles import (
    PolicyDescription,
    RuleDescription,
    StateResolution,
    TypeClass,
    TypeProfile,
)
from runactionability.changes import Change, ChangeCause, ChangePage
from runactionability.consumers import (
    ActiveWork,
    Assessment,
    DashboardSummary,
    Explanation,
    View,
    VisibleScopes,
    assess,
    assess_async,
    current_follow_up,
    dashboard,
    explain,
    explain_async,
    summarize,
)
from runactionability.errors import (
    CatalogError,
    ConfigurationError,
    ConflictError,
    CoverageError,
    DuplicateRunError,
    EvidenceFetchError,
    InvalidCursorError,
    MappingMismatchWarning,
    MissingStateSourceError,
    MissingStateSourceWarning,
    NoWorkspacesError,
    ObserverFailedWarning,
    PluginError,
    RunActionabilityError,
    RunActionabilityWarning,
    UnknownLocaleWarning,
    UsageError,
)
from runactionability.evidence import LaterSuccessRequest, RunFact, StateFact, StateRequest
from runactionability.findings import CheckReport, Finding, FindingCode, Severity
from runactionability.hookspecs import hookimpl
from runactionability.i18n import MessageCatalogs, Renderer
from runactionability.jsonforms import json_schema, to_json
from runactionability.messages import Listing, Message, msg, msgn
from runactionability.model import (
    OperationRun,
    Ownership,
    RunId,
    RunOutcome,
    RunPage,
    RunQuery,
    RunStatus,
    run_as_of,
)
from runactionability.policies.base import (
    Evidence,
    Family,
    Policy,
    ProblemRun,
    ResolvingStates,
    Risk,
    Rule,
)
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
from runactionability.ports import (
    AsyncJointEvidence,
    AsyncRunHistory,
    AsyncStateSource,
    JointEvidence,
    RunHistory,
    RunsById,
    RunSource,
    StateSource,
)
from runactionability.registry import Registry
from runactionability.resolver import AsyncResolver, Resolver
from runactionability.result import (
    Actionability,
    ActionabilityResult,
    ActionKind,
    Decision,
    PolicyViolation,
    PrimaryAction,
    Proof,
    Reason,
    StatusCounts,
    Verdict,
)

if TYPE_CHECKING:
    from runactionability.config import Config, load_config
    from runactionability.service import (
        ActionabilityService,
        AsyncActionabilityService,
        AsyncRequestSession,
        EveryWorkspace,
        RequestSession,
    )

try:
    __version__ = _distribution_version("runactionability")
    """The installed distribution's version (``runactionability --version`` prints it too)."""
except PackageNotFoundError:
    # A source tree put on sys.path without installing it has no distribution metadata.
    __version__ = "0+unknown"

_SERVICE = frozenset(
    {
        "ActionabilityService",
        "AsyncActionabilityService",
        "AsyncRequestSession",
        "EveryWorkspace",
        "RequestSession",
    }
)
_CONFIG = frozenset({"Config", "load_config"})


def __getattr__(name: str) -> Any:
    # The request API reads through SQLAlchemy: it is imported on first use, so a host that
    # evaluates runs in memory never loads the SQL layer by importing the root.
    if name in _SERVICE:
        from runactionability import service

        return getattr(service, name)
    if name in _CONFIG:
        from runactionability import config

        return getattr(config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ActionKind",
    "Actionability",
    "ActionabilityResult",
    "ActionabilityService",
    "ActiveWork",
    "AlwaysInformational",
    "AlwaysManualReview",
    "Assessment",
    "AsyncActionabilityService",
    "AsyncJointEvidence",
    "AsyncRequestSession",
    "AsyncResolver",
    "AsyncRunHistory",
    "AsyncStateSource",
    "CatalogError",
    "Change",
    "ChangeCause",
    "ChangePage",
    "CheckReport",
    "Config",
    "ConfigurationError",
    "ConflictError",
    "CoverageError",
    "DashboardSummary",
    "Decision",
    "DuplicateRunError",
    "EveryWorkspace",
    "Evidence",
    "EvidenceFetchError",
    "Explanation",
    "Family",
    "Finding",
    "FindingCode",
    "FirstDecisive",
    "InformationalWhen",
    "InvalidCursorError",
    "InventoryEntry",
    "JointEvidence",
    "LaterSuccessRequest",
    "Listing",
    "MappingMismatchWarning",
    "Message",
    "MessageCatalogs",
    "MissingStateSourceError",
    "MissingStateSourceWarning",
    "NoWorkspacesError",
    "ObserverFailedWarning",
    "OpenRelatedAction",
    "OperationCatalog",
    "OperationRun",
    "OperationType",
    "Ownership",
    "PluginError",
    "Policy",
    "PolicyDescription",
    "PolicyViolation",
    "PrimaryAction",
    "ProblemRun",
    "Proof",
    "Reason",
    "Registry",
    "Renderer",
    "RequestSession",
    "ResolvedByState",
    "Resolver",
    "ResolvingStates",
    "RetryAction",
    "Risk",
    "Rule",
    "RuleDescription",
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
    "RunsById",
    "Severity",
    "StateFact",
    "StateRequest",
    "StateResolution",
    "StateSource",
    "StatusCounts",
    "SupersededByLaterSuccess",
    "TypeClass",
    "TypeProfile",
    "UnknownLocaleWarning",
    "UsageError",
    "Verdict",
    "View",
    "VisibleScopes",
    "__version__",
    "assess",
    "assess_async",
    "current_follow_up",
    "dashboard",
    "explain",
    "explain_async",
    "hookimpl",
    "json_schema",
    "load_config",
    "msg",
    "msgn",
    "run_as_of",
    "summarize",
    "to_json",
]
