"""A zoo host's mappings written as the configuration file the CLI reads (``--config``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tests.zoo.canon import Mapped

from runactionability.adapters.sqlalchemy import Instants, RunTableMapping, StateTableMapping


def _value(value: Any) -> str:
    """A TOML value: strings and numbers as JSON writes them, tables inline, lists as arrays."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return (
            "{ " + ", ".join(f"{json.dumps(str(k))} = {_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return json.dumps(value if isinstance(value, int) else str(value))


def _table(name: str, fields: Mapping[str, Any]) -> str:
    return f"[{name}]\n" + "".join(f"{key} = {_value(v)}\n" for key, v in fields.items()) + "\n"


def _runs(mapping: RunTableMapping) -> dict[str, Any]:
    names = ("id", "type", "workspace_id", "environment_id", "created_at", "started_at")
    fields: dict[str, Any] = {"table": mapping.table, "reflect": False}
    fields |= {name: getattr(mapping, name) for name in (*names, "completed_at", "context")}
    fields["subject"] = False if mapping.subject is None else mapping.subject
    if mapping.lifecycle is not None:
        fields["lifecycle"] = mapping.lifecycle
        fields["lifecycles"] = {
            value: [str(status)] if outcome is None else [str(status), str(outcome)]
            for value, (status, outcome) in mapping.lifecycles.items()
        }
    else:
        fields |= {"status": mapping.status, "outcome": mapping.outcome}
        fields["statuses"] = {k: str(v) for k, v in mapping.statuses.items()}
        fields["outcomes"] = {k: str(v) for k, v in mapping.outcomes.items()}
    fields["timestamps"] = str(mapping.timestamps)
    ids = mapping.ids
    fields["ids"] = {
        "run": ids.run,
        "workspace": ids.workspace,
        "environment": ids.environment,
        "subject": ids.subject,
    }
    return fields


def _state(mapping: StateTableMapping) -> dict[str, Any]:
    fields: dict[str, Any] = {"table": mapping.table, "reflect": False}
    fields |= {name: getattr(mapping, name) for name in ("workspace_id", "environment_id")}
    fields["subject"] = False if mapping.subject is None else mapping.subject
    fields |= {"status": mapping.status, "proven_at": mapping.proven_at}
    fields["attributes"] = False if mapping.attributes is None else mapping.attributes
    if mapping.statuses is not None:
        fields["statuses"] = dict(mapping.statuses)
    if mapping.where:
        fields["where"] = dict(mapping.where)
    fields["timestamps"] = str(mapping.timestamps)
    ids = mapping.ids
    fields["ids"] = {"workspace": ids.workspace, "environment": ids.environment}
    fields["ids"]["subject"] = ids.subject
    return fields


def _told(fields: dict[str, Any], instants: Instants, dialect: str) -> dict[str, Any]:
    """``fields`` without what reflection reads from the column types (``timestamps``, ``ids``),
    with what it cannot: the zone of wall-clock times, the unit of epoch integers, and on SQLite
    the library's own storage (integer microseconds), which an INTEGER column does not tell
    apart from a host's epoch integers."""
    fields = {key: v for key, v in fields.items() if key not in ("timestamps", "ids", "reflect")}
    if instants.form == "native" and dialect == "sqlite":
        fields["timestamps"] = "native"
    elif instants.form in ("iso_text", "naive"):
        fields["zone"] = instants.zone
    elif instants.form == "epoch":
        fields["epoch_unit"] = instants.unit
    return fields


def config_text(
    mapped: Mapped, database: str, *, told_only: bool = False, dialect: str = ""
) -> str:
    """The ``runactionability.toml`` that names ``database`` and the host's tables as mapped:
    every key (``reflect = false``), or, ``told_only``, only what reflection cannot know on
    ``dialect``."""
    text = f"database = {_value(database)}\nreference_states = false\n\n"
    runs = _runs(mapped.runs)
    text += _table("runs", _told(runs, mapped.runs.timestamps, dialect) if told_only else runs)
    for kind, mapping in mapped.states.items():
        fields = _state(mapping)
        if told_only:
            fields = _told(fields, mapping.timestamps, dialect)
        text += _table(f"states.{kind}", fields)
    return text
