"""The versioned JSON forms of what a host shows: results, proofs, actions, pages, summaries, the
change feed's changes and pages, and the findings of a mapping's check.

One ``cattrs`` converter turns the library's values into plain JSON (dicts, lists, strings,
numbers, booleans, None): instants as ISO-8601 with their offset, sets as sorted lists, enums as
their values, read-only mappings as dicts. The CLI prints these same forms inside its documents,
and ``schemas/forms.schema.json`` (JSON Schema draft 2020-12, shipped in the package) describes
each one under ``$defs``. A form only gains keys within one ``JSON_SCHEMA_VERSION``; renaming or
removing a key, or changing its meaning, raises the version.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from runactionability.changes import Change, ChangePage
from runactionability.consumers import (
    ActiveWork,
    AssessedPage,
    Assessment,
    DashboardSummary,
    Explanation,
    StatusCounts,
)
from runactionability.evidence import RunFact, StateFact
from runactionability.findings import CheckReport, Finding
from runactionability.i18n import Renderer, english_renderer
from runactionability.limits import integer_text, written
from runactionability.messages import Listing, Message, Param
from runactionability.model import as_stored
from runactionability.result import (
    Actionability,
    ActionabilityResult,
    PrimaryAction,
    Verdict,
)
from runactionability.scopes import VisibleScopes

__all__ = [
    "FORMS",
    "JSON_SCHEMA_VERSION",
    "converter",
    "json_schema",
    "message_json",
    "stamp",
    "to_json",
]

JSON_SCHEMA_VERSION = 1


def stamp(value: object) -> str | None:
    """An instant as ISO-8601 (with the offset it carries, in UTC when that offset is not a
    whole number of minutes); anything else as its text."""
    if not isinstance(value, datetime):
        return None if value is None else written(value, str)
    # RFC 3339 (the schema's date-time) has no seconds in an offset, yet Python allows them:
    # an --as-of of "+00:00:07", or a zone's local mean time (Amsterdam's +00:19:32 before 1937).
    odd = (value.utcoffset() or timedelta()) % timedelta(minutes=1)
    return (value.astimezone(UTC) if odd else value).isoformat()


def _plain(value: object) -> object:
    # A run's own columns are the host's data: hostile rows may hold anything, and a form must
    # still be JSON, so what is not a JSON scalar (or an int too long to write) is shown as its
    # text; a value the host's vocabulary does not list is shown as stored ("paused"), unwrapped.
    value = as_stored(value)
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or type(value) in (bool, float, str):
        return value
    return value if type(value) is int and integer_text(value) else written(value, str)


def _sorted_list(values: frozenset[Any] | set[Any]) -> list[Any]:
    # Sets have no order; a stable document sorts them (by text, so mixed id types still sort).
    return sorted((converter.unstructure(value) for value in values), key=str)


def _enum_value(member: enum.Enum) -> Any:
    return member.value


converter = cattrs.Converter()
converter.register_unstructure_hook(datetime, stamp)
converter.register_unstructure_hook(frozenset, _sorted_list)
converter.register_unstructure_hook(set, _sorted_list)
# A StrEnum is a str, and cattrs would pass it through as the member; the form holds its value.
converter.register_unstructure_hook(enum.Enum, _enum_value)
converter.register_unstructure_hook(enum.StrEnum, _enum_value)
converter.register_unstructure_hook_func(
    lambda cls: isinstance(cls, type) and issubclass(cls, Mapping) and cls is not dict,
    lambda value: {key: converter.unstructure(item) for key, item in value.items()},
)

# The renderer of the document being built: ``to_json(value, renderer=...)`` sets it.
_RENDERER: ContextVar[Renderer | None] = ContextVar("runactionability_renderer", default=None)


def _text(message: Message) -> str:
    renderer = _RENDERER.get()
    return (english_renderer() if renderer is None else renderer).render(message)


def _param_json(value: Param) -> Any:
    if isinstance(value, Message):
        return message_json(value)
    if isinstance(value, Listing):
        return [_param_json(item) for item in value.items]
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def message_json(message: Message) -> dict[str, Any]:
    """A message's stable form: its ``id`` and its ``params`` (nested messages in the same form,
    instants as ISO-8601, durations in seconds, lists as arrays)."""
    return {
        "id": message.id,
        "params": {name: _param_json(value) for name, value in message.params},
    }


def _action_form(action: PrimaryAction) -> dict[str, Any]:
    return {
        "kind": action.kind.value,
        "label": _text(action.message),
        "label_message": message_json(action.message),
        "target_kind": action.target_kind,
        "target_id": action.target_id,
    }


_run_fact_form = make_dict_unstructure_fn(RunFact, converter, created_at=override(omit=True))
# The state's own attributes are the host's free-form data, not part of the stable form.
_state_fact_form = make_dict_unstructure_fn(
    StateFact,
    converter,
    kind=override(rename="state_kind"),
    attributes=override(omit=True),
)


def _proof(proof: RunFact | StateFact | None) -> dict[str, Any] | None:
    if proof is None:
        return None
    if isinstance(proof, RunFact):
        return {"kind": "run", **_run_fact_form(proof)}
    return {"kind": "state", **_state_fact_form(proof)}


def _action(action: PrimaryAction | None) -> dict[str, Any] | None:
    return None if action is None else _action_form(action)


def _verdict(verdict: Verdict) -> dict[str, Any]:
    return {
        "status": str(verdict.status),
        "reason": str(verdict.reason),
        "explanation": _text(verdict.message),
        "explanation_message": message_json(verdict.message),
        "family": verdict.family,
        "operation_type": verdict.operation_type,
        "proof": _proof(verdict.proof),
        "primary_action": _action(verdict.primary_action),
        "as_of": stamp(verdict.as_of),
    }


def _result(result: ActionabilityResult) -> dict[str, Any]:
    return {
        "run_id": _plain(result.run_id),
        "needs_attention": result.needs_attention,
        **_verdict(result.verdict),
    }


def _assessment(item: Assessment) -> dict[str, Any]:
    run, result = item.run, item.result
    return {
        "run_id": _plain(run.id),
        "operation_type": _plain(run.type),
        "canonical_type": result.operation_type,
        "family": result.family,
        "workspace_id": _plain(run.workspace_id),
        "environment_id": _plain(run.environment_id),
        "status": _plain(run.status),
        "outcome": _plain(run.outcome),
        "created_at": stamp(run.created_at),
        "completed_at": stamp(run.completed_at),
        "actionability": str(result.status),
        "needs_attention": result.needs_attention,
        "reason": str(result.reason),
        "explanation": _text(result.message),
        "explanation_message": message_json(result.message),
        "proof": _proof(result.proof),
        "primary_action": _action(item.primary_action),
        "eligible_actions": converter.unstructure(item.eligible_actions),
        "active_run_id": _plain(item.active_run_id),
    }


def _counts(counts: StatusCounts) -> dict[str, Any]:
    return {
        "total": counts.total,
        "needs_attention": counts.needs_attention,
        "by_status": {str(status): counts.by_status[status] for status in Actionability},
    }


def _scopes(scopes: VisibleScopes) -> dict[str, Any]:
    return {
        "workspace_ids": converter.unstructure(scopes.workspace_ids),
        "environment_ids": None
        if scopes.environment_ids is None
        else converter.unstructure(scopes.environment_ids),
    }


def _active(active: ActiveWork) -> dict[str, Any]:
    return {
        "queued": active.queued,
        "running": active.running,
        "by_type": dict(active.by_type),
        "newest": [_assessment(item) for item in active.newest],
    }


def _summary(summary: DashboardSummary) -> dict[str, Any]:
    return {
        "as_of": stamp(summary.as_of),
        "scopes": _scopes(summary.scopes),
        **_counts(summary.counts),
        "by_family": [
            {"family": name, **_counts(counts)} for name, counts in summary.by_family.items()
        ],
        "by_environment": [
            {"workspace_id": ws, "environment_id": env, **_counts(counts)}
            for (ws, env), counts in summary.by_environment.items()
        ],
        "top": [_assessment(item) for item in summary.top],
        "active": _active(summary.active),
    }


def _page(page: AssessedPage) -> dict[str, Any]:
    return {
        "runs": [_assessment(item) for item in page.items],
        "next_cursor": page.next_cursor,
        "scanned": page.scanned,
    }


def _explanation(told: Explanation) -> dict[str, Any]:
    return {
        "run": _assessment(told.assessment),
        "risk": None if told.risk is None else str(told.risk),
        "plugin": told.plugin,
        "would_change": [_text(line) for line in told.would_change],
        "would_change_messages": [message_json(line) for line in told.would_change],
    }


def _stored_run(change: Change) -> dict[str, Any]:
    run = change.run
    return {
        "run_id": _plain(run.id),
        "operation_type": _plain(run.type),
        "workspace_id": _plain(run.workspace_id),
        "environment_id": _plain(run.environment_id),
        "status": _plain(run.status),
        "outcome": _plain(run.outcome),
        "created_at": stamp(run.created_at),
        "completed_at": stamp(run.completed_at),
    }


def _change(change: Change) -> dict[str, Any]:
    return {
        **_stored_run(change),
        "since_status": None if change.since_status is None else str(change.since_status),
        "actionability": str(change.status),
        "cause": str(change.cause),
        "evidence": _proof(change.evidence),
        "changed_at": stamp(change.changed_at),
        "result": _result(change.result),
    }


def _change_page(page: ChangePage) -> dict[str, Any]:
    return {
        "since": stamp(page.since),
        "until": stamp(page.until),
        "changes": [_change(change) for change in page.changes],
        "next_cursor": page.next_cursor,
        "poll_cursor": page.poll_cursor,
    }


_finding_form = make_dict_unstructure_fn(Finding, converter)


def _check_report(report: CheckReport) -> dict[str, Any]:
    return {
        "dialect": report.dialect,
        "table": report.table,
        "total_runs": report.total_runs,
        "sampled": report.sampled,
        "passed": report.passed,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "findings": [_finding_form(finding) for finding in report.findings],
    }


converter.register_unstructure_hook(PrimaryAction, _action_form)
converter.register_unstructure_hook(RunFact, _proof)
converter.register_unstructure_hook(StateFact, _proof)
converter.register_unstructure_hook(Verdict, _verdict)
converter.register_unstructure_hook(ActionabilityResult, _result)
converter.register_unstructure_hook(Assessment, _assessment)
converter.register_unstructure_hook(StatusCounts, _counts)
converter.register_unstructure_hook(VisibleScopes, _scopes)
converter.register_unstructure_hook(ActiveWork, _active)
converter.register_unstructure_hook(DashboardSummary, _summary)
converter.register_unstructure_hook(AssessedPage, _page)
converter.register_unstructure_hook(Explanation, _explanation)
converter.register_unstructure_hook(Change, _change)
converter.register_unstructure_hook(ChangePage, _change_page)
converter.register_unstructure_hook(Finding, _finding_form)
converter.register_unstructure_hook(CheckReport, _check_report)

# The name of each form's definition in the shipped schema, by the value it describes.
FORMS: Mapping[type, str] = {
    PrimaryAction: "action",
    RunFact: "proof",
    StateFact: "proof",
    Verdict: "verdict",
    ActionabilityResult: "result",
    Assessment: "assessment",
    StatusCounts: "counts",
    VisibleScopes: "scopes",
    ActiveWork: "active_work",
    DashboardSummary: "summary",
    AssessedPage: "page",
    Explanation: "explanation",
    Change: "change",
    ChangePage: "change_page",
    Finding: "finding",
    CheckReport: "doctor",
}


def to_json(value: object, *, renderer: Renderer | None = None) -> Any:
    """``value`` as plain JSON data (``json.dumps`` takes it as is), in its documented form.

    Its texts (explanations, labels, ``would_change``) are rendered by ``renderer`` (a request
    session's, for its locale and time zone; default English, UTC); each keeps its message id and
    parameters beside it, which do not depend on the locale.
    """
    with _rendering(renderer):
        return converter.unstructure(value)


@contextmanager
def _rendering(renderer: Renderer | None) -> Iterator[None]:
    token = _RENDERER.set(renderer)
    try:
        yield
    finally:
        _RENDERER.reset(token)


@cache
def _schema_text() -> str:
    return resources.files("runactionability").joinpath("schemas/forms.schema.json").read_text()


def json_schema() -> dict[str, Any]:
    """The shipped JSON Schema (draft 2020-12): every form is one entry of its ``$defs``.

    Each call returns a fresh copy, so a host that edits it changes nobody else's.
    """
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema
