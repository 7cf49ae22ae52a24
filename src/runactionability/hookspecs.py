"""The plugin hooks, and the ``hookimpl`` marker plugin authors decorate their functions with.

This module is the plugin author's manual: every hook is named ``runactionability_*``, and its
docstring gives its exact signature and how the results of several plugins combine. A plugin is
any module or object with ``@hookimpl`` functions; third-party packages expose one through the
entry-point group ``runactionability``::

    [project.entry-points.runactionability]
    my_families = "my_package.actionability"
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from runactionability.catalog import OperationType
    from runactionability.changes import Change
    from runactionability.i18n import MessageCatalogs
    from runactionability.policies.base import Family
    from runactionability.result import ActionabilityResult, PolicyViolation

PROJECT_NAME = "runactionability"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""The marker a plugin decorates its hook functions with: ``@hookimpl``."""


@hookspec
def runactionability_families() -> Sequence[Family]:
    """``runactionability_families() -> Sequence[Family]``

    Return the families this plugin defines. Every plugin's families are gathered; two plugins
    returning a family of the same name is a ``ConflictError`` naming both plugins.

    Each ``Family`` declares which state statuses resolve which of its types
    (``Family.resolving_states``, a tuple of ``ResolvingStates(kind, statuses, types=None)``);
    left out, it is what the policy declares through ``resolving_states()``, which
    ``ResolvedByState`` and ``FirstDecisive`` implement. The core refuses a
    ``resolved_by_current_state`` decision whose proof's status the family did not declare for
    the run's type (a policy violation), so a family that declares nothing never resolves by state.
    """


@hookspec
def runactionability_operation_types() -> Sequence[OperationType]:
    """``runactionability_operation_types() -> Sequence[OperationType]``

    Return the operation types this plugin adds to the registry's catalog
    (``Registry.catalog()``). Every plugin's types are gathered; two plugins claiming one type
    name or alias is a ``ConflictError`` naming both plugins.
    """


@hookspec
def runactionability_message_catalogs() -> Sequence[MessageCatalogs]:
    """``runactionability_message_catalogs() -> Sequence[MessageCatalogs]``

    Return the gettext catalogs of this plugin's own messages (the ``msg(...)`` explanations and
    labels of its rules): each a ``MessageCatalogs(directory, domain)`` whose directory holds
    ``<locale>/LC_MESSAGES/<domain>.mo`` (or ``.po``, read with Babel). Every plugin's catalogs
    are gathered, in registration order; a session asks a host's override catalog first, then
    these, then the library's own, so a plugin may also translate the display names of its
    types (``operation_type.<name>``) and family (``family.<name>``). A locale that some plugin
    ships is a known locale. Extract a plugin's messages with
    ``runactionability.i18n.extract_messages``.
    """


@hookspec
def runactionability_results_evaluated(
    results: Sequence[ActionabilityResult], as_of: datetime
) -> None:
    """``runactionability_results_evaluated(results: Sequence[ActionabilityResult], as_of: datetime) -> None``

    Observe every batch a resolver evaluated, once per batch, after the decisions are final (for
    logging and metrics). Every plugin is called; return values are ignored. An observer must not
    change or keep the sequence it is handed. An observer that raises is reported (an
    ``ObserverFailedWarning`` and a log record) and never takes the results away; the other
    observers are still called.
    """  # noqa: E501


@hookspec
def runactionability_policy_violation(violation: PolicyViolation) -> None:
    """``runactionability_policy_violation(violation: PolicyViolation) -> None``

    Observe each time the core overrode a policy: a proof that failed the core's checks, a
    high-risk decision clamped to manual review, a policy that raised or returned something that
    is not a decision, or a decision whose proof or primary action is of the wrong kind. Called
    once per overridden run; every plugin is called; return values are ignored; an observer that
    raises is reported like any other and changes nothing.
    """


@hookspec
def runactionability_actionability_changed(change: Change) -> None:
    """``runactionability_actionability_changed(change: Change) -> None``

    Observe each change a poll delivers (``ActionabilityService.poll_changes`` and its async
    twin): called once per change, in the page's order (by ``changed_at``, then run id), after
    the poll's snapshot is closed, so outside any transaction: an observer may write to the
    database, call a pager or close an incident. Every plugin is called; return values are
    ignored. An observer that raises is reported (an ``ObserverFailedWarning`` and a log
    record) and neither takes the page away nor stops the other observers or changes.
    A poller that follows its ``poll_cursor`` is handed each change once (``docs/changes.md``).
    """
