"""The library's JSON forms: plain JSON, stable, and valid against the schema shipped with it.

Real results come from the small demo history through the memory adapter, so every status is
present, with run and state proofs, actions, a dashboard, every listing view and explanations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from tests.support import form_validator

from runactionability import jsonforms
from runactionability.adapters.memory import MemoryRunHistory, MemoryRunSource, MemoryStateSource
from runactionability.consumers import (
    ActiveRuns,
    Assessment,
    View,
    VisibleScopes,
    assess,
    dashboard,
    explain,
    list_assessed,
)
from runactionability.demo import Size, generate
from runactionability.evidence import RunFact, StateFact
from runactionability.messages import msg
from runactionability.resolver import Resolver
from runactionability.result import Actionability, ActionKind

DATA = generate(Size.SMALL)
KINDS = frozenset(fact.kind for fact in DATA.states)
SCOPES = VisibleScopes(sorted({str(run.workspace_id) for run in DATA.runs}))


def valid(form: str, value: object) -> Any:
    """``value``'s JSON form, after checking it is plain JSON and valid as ``form``."""
    document = jsonforms.to_json(value)
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    form_validator(form).validate(document)
    return document


def _plain_only(value: object) -> Iterator[object]:
    """Every value in a document that is not a JSON type (a str subclass such as an enum too)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                yield key
            yield from _plain_only(item)
    elif isinstance(value, list):
        for item in value:
            yield from _plain_only(item)
    elif value is not None and type(value) not in (str, int, float, bool):
        yield value


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver(
        history=MemoryRunHistory(DATA.runs),
        states={
            kind: MemoryStateSource(kind, [f for f in DATA.states if f.kind == kind])
            for kind in KINDS
        },
    )


@pytest.fixture(scope="module")
def assessed(resolver: Resolver) -> list[Assessment]:
    return assess(resolver, DATA.runs, scopes=SCOPES, as_of=DATA.as_of)


def test_the_shipped_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = jsonforms.json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f":{jsonforms.JSON_SCHEMA_VERSION}")


def test_every_result_of_every_status_is_plain_valid_json(assessed: list[Assessment]) -> None:
    seen: set[str] = set()
    proofs: set[tuple[str, str]] = set()
    for item in assessed:
        result = valid("result", item.result)
        assessment = valid("assessment", item)
        assert list(_plain_only(result)) == []
        assert list(_plain_only(assessment)) == []
        valid("verdict", item.result.verdict)
        assert result["status"] == assessment["actionability"] == str(item.status)
        seen.add(result["status"])
        if result["proof"] is not None:
            valid("proof", item.result.proof)
            proofs.add((result["status"], result["proof"]["kind"]))
        if item.primary_action is not None:
            assert valid("action", item.primary_action)["kind"] == str(item.primary_action.kind)
    assert seen == {str(status) for status in Actionability}
    assert ("superseded_by_later_success", "run") in proofs
    assert ("resolved_by_current_state", "state") in proofs


def test_instants_keep_their_offset_and_sets_are_sorted(assessed: list[Assessment]) -> None:
    item = next(i for i in assessed if isinstance(i.result.proof, RunFact))
    result = jsonforms.to_json(item.result)
    assert result["as_of"] == DATA.as_of.isoformat()
    assert result["as_of"].endswith("+00:00")
    proof = item.result.proof
    assert isinstance(proof, RunFact)
    east = proof.completed_at.astimezone(timezone(timedelta(hours=2)))
    moved = jsonforms.to_json(attrs.evolve(proof, completed_at=east))
    assert moved["completed_at"].endswith("+02:00")
    assert datetime.fromisoformat(moved["completed_at"]) == proof.completed_at
    eligible = jsonforms.to_json(item)["eligible_actions"]
    assert eligible == sorted(eligible)
    assert jsonforms.to_json(frozenset({"b", "a", "c"})) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "offset",
    [timedelta(seconds=7), timedelta(minutes=19, seconds=32), -timedelta(microseconds=1)],
    ids=["seconds", "local-mean-time", "microsecond"],
)
def test_an_offset_of_no_whole_minutes_is_written_in_utc_and_valid(
    assessed: list[Assessment], offset: timedelta
) -> None:
    # RFC 3339 offsets have no seconds; Python's do (an --as-of of +00:00:07, a zone's LMT).
    item = next(i for i in assessed if isinstance(i.result.proof, RunFact))
    odd = timezone(offset)
    proof = item.result.proof
    assert isinstance(proof, RunFact)
    verdict = item.result.verdict
    moved = attrs.evolve(
        item.result,
        verdict=attrs.evolve(
            verdict,
            as_of=verdict.as_of.astimezone(odd),
            proof=attrs.evolve(proof, completed_at=proof.completed_at.astimezone(odd)),
        ),
    )
    document = valid("result", moved)
    assert document["as_of"].endswith("+00:00")
    assert datetime.fromisoformat(document["as_of"]) == item.result.as_of
    assert datetime.fromisoformat(document["proof"]["completed_at"]) == proof.completed_at
    told = jsonforms.message_json(msg("x", "at {when}", when=proof.completed_at.astimezone(odd)))
    assert told["params"]["when"] == proof.completed_at.astimezone(UTC).isoformat()


def test_a_naive_instant_fails_the_schema(assessed: list[Assessment]) -> None:
    item = next(i for i in assessed if isinstance(i.result.proof, StateFact))
    proof = item.result.proof
    assert isinstance(proof, StateFact)
    document = jsonforms.to_json(proof)
    assert set(document) == {
        "kind",
        "state_kind",
        "workspace_id",
        "environment_id",
        "subject",
        "status",
        "proven_at",
    }
    document["proven_at"] = proof.proven_at.replace(tzinfo=None).isoformat()
    with pytest.raises(ValidationError):
        form_validator("proof").validate(document)


def test_dashboard_pages_and_explanations_are_valid(
    resolver: Resolver, assessed: list[Assessment]
) -> None:
    source = MemoryRunSource(DATA.runs)
    summary = valid("summary", dashboard(source, resolver, scopes=SCOPES, as_of=DATA.as_of))
    assert summary["total"] == len(assessed)
    assert summary["active"]["queued"] + summary["active"]["running"] > 0
    valid("scopes", VisibleScopes(["b", "a"], environment_ids=["prod"]))
    for view in View:
        page = valid(
            "page",
            list_assessed(source, resolver, scopes=SCOPES, as_of=DATA.as_of, view=view, limit=20),
        )
        assert len(page["runs"]) <= 20
    active = ActiveRuns.from_source(source, catalog=resolver.catalog, scopes=SCOPES)
    by_id = {run.id: run for run in DATA.runs}
    for run_id in DATA.headlines.values():
        told = explain(
            resolver,
            by_id[run_id],
            scopes=SCOPES,
            as_of=DATA.as_of,
            active=active,
            state_kinds=KINDS,
        )
        assert valid("explanation", told)["run"]["run_id"] == run_id


def test_the_schema_names_every_status_and_action_kind() -> None:
    # A new status or action kind must reach the schema, or hosts validating with it reject it.
    defs = jsonforms.json_schema()["$defs"]
    assert defs["actionability"]["enum"] == [str(status) for status in Actionability]
    assert defs["action_kind"]["enum"] == [str(kind) for kind in ActionKind]
    for name in ("report", "list", "explain", "demo", "families", "coverage"):
        schema = defs[f"{name}_document"]["properties"]["schema"]
        assert schema["const"] == f"runactionability.{name}/{jsonforms.JSON_SCHEMA_VERSION}"


def test_every_form_is_named_in_the_schema() -> None:
    defs = jsonforms.json_schema()["$defs"]
    assert set(jsonforms.FORMS.values()) <= set(defs)
    defs.clear()
    assert jsonforms.json_schema()["$defs"], "a host's edit leaked into the shipped schema"
