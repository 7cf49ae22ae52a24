"""A context number Python's ``int`` cannot read is read alike by every path, never a failure.

Python refuses to read an integer of more than 4,300 digits (``sys.get_int_max_str_digits``,
CVE-2020-10735), and ``json.dumps`` to write one. On PostgreSQL psycopg's ``jsonb`` loader
raised decoding such a row, failing every page, ``explain`` and the change feed of its
workspace; on SQLite Python read the context as no JSON (``invalid_context``) where the SQL
counted it valid. Such an integer now reads as the float Python reads for its spelling with an
exponent (``1e5000`` is ``inf``): the context stays valid, and the integer is no usable
subject (``missing_correlation``), in memory, in the SQL and in Python alike.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from tests.support import (
    AS_OF,
    at,
    form_validator,
    fresh_engine,
    insert_raw,
    raw_row,
    resolver,
    run,
    session_views,
    store_contexts,
)

from runactionability import (
    Actionability,
    ActionabilityService,
    UsageError,
    VisibleScopes,
    to_json,
)
from runactionability.adapters.sqlalchemy import REFERENCE_RUNS, RunTableMapping, create_schema
from runactionability.adapters.sqlalchemy.json_text import read_json_text
from runactionability.adapters.sqlalchemy.schema import state_tables
from runactionability.adapters.sqlalchemy.types import to_micros
from runactionability.consumers import View, assess
from runactionability.limits import TOO_LONG_INTEGER, check_limit
from runactionability.model import usable_id

CHECK = "provider.connection.check"
RUNS = attrs.evolve(REFERENCE_RUNS, subject=None)
W1 = VisibleScopes({"w1"})
REVIEW, ACTIONABLE = "requires_manual_review", "actionable"
SUPERSEDED, INFORMATIONAL = "superseded_by_later_success", "informational_only"
pytestmark = [
    pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning"),
    pytest.mark.filterwarnings("ignore::runactionability.MappingMismatchWarning"),
]

HUGE = "1" + "0" * 5000
"""An integer Python's ``int`` refuses (5,001 digits); ``1e5000`` as ``jsonb`` prints it."""
LONGEST = "9" * 4300
"""The longest integer Python reads by default: a usable subject."""


def _context(subject: str, **more: str) -> str:
    members = [f'"provider_connection_id": {subject}', *(f'"{k}": {v}' for k, v in more.items())]
    return "{" + ", ".join(members) + "}"


# (outcome, context as stored, status): the same on every engine and in memory.
CHECKS: list[tuple[str, str, str]] = [
    # A huge integer beside the subject: the context is valid.
    ("failed", _context('"c1"', n=HUGE), ACTIONABLE),
    ("failed", _context('"c2"', n=f"[-{HUGE}]", m=f'{{"k": {HUGE}}}'), ACTIONABLE),
    # A huge integer as the subject is no subject, and a success about it proves nothing.
    ("failed", _context(HUGE), REVIEW),
    ("succeeded", _context(HUGE), INFORMATIONAL),
    ("failed", _context("-" + HUGE), REVIEW),
    # 4,300 digits are a subject; the success beside it supersedes it.
    ("failed", _context(LONGEST), SUPERSEDED),
    ("succeeded", _context(LONGEST, n=HUGE), INFORMATIONAL),
    # A success holding a huge integer elsewhere is evidence.
    ("failed", _context('"c8"'), SUPERSEDED),
    ("succeeded", _context('"c8"', n=HUGE), INFORMATIONAL),
    # -0 is the subject 0 everywhere.
    ("failed", _context("-0"), SUPERSEDED),
    ("succeeded", _context("0"), INFORMATIONAL),
    # A long fraction is an ordinary float.
    ("failed", _context('"c12"', n="0." + "3" * 5000), ACTIONABLE),
]
IDS = list(range(1, len(CHECKS) + 1))
EXPECTED = {run_id: status for run_id, (_, _, status) in zip(IDS, CHECKS, strict=True)}


def _subject_text(context: str) -> str:
    """The subject column a host derives from ``context``: the subject's text as the core
    compares it (an integer too long for ``int`` as its digits)."""
    written = context.split(",")[0].split(": ", 1)[1].rstrip("}")
    if written.startswith('"'):
        return str(json.loads(written))
    return written if len(written) > 4300 else str(int(written))


def _store(engine: sa.Engine, column: str, *, subjects: bool = False) -> None:
    """``CHECKS`` stored, its context ``column`` on PostgreSQL (with ``subjects``, the subject
    column derived from each context too)."""
    stored = [(outcome, context) for outcome, context, _ in CHECKS]
    derived = [_subject_text(context) for _, context in stored] if subjects else None
    store_contexts(engine, stored, column=column, subjects=derived)


def _seen(engine: sa.Engine, api: str, runs: RunTableMapping = RUNS) -> dict[str, Any]:
    views = session_views(engine, runs, IDS, api=api, scopes=W1)
    board, follow, history = to_json(views.board), to_json(views.follow_up), to_json(views.page)
    return {
        "listed": {row["run_id"]: row["actionability"] for row in history["runs"]},
        "follow_up": {row["run_id"]: row["actionability"] for row in follow["runs"]},
        "counts": {k: v for k, v in board["by_status"].items() if v},
        "explained": {
            run_id: to_json(explanation)["run"]["actionability"]
            for run_id, explanation in zip(IDS, views.explained, strict=True)
        },
        "reasons": {row["run_id"]: row["reason"] for row in history["runs"]},
        "changes": {c["run_id"]: c["actionability"] for c in to_json(views.changes)["changes"]},
        "forms": [board, follow, history],
    }


def _counted(statuses: dict[int, str]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for status in statuses.values():
        counted[status] = counted.get(status, 0) + 1
    return counted


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("column", ["jsonb", "json"])
def test_a_number_python_cannot_read_is_judged_alike_everywhere(
    sql_engine: sa.Engine, api: str, column: str
) -> None:
    if column == "json" and sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite's context is text, one leg")
    _store(sql_engine, column)
    engine = fresh_engine(sql_engine)
    try:
        # Before: EvidenceFetchError on PostgreSQL (psycopg's ValueError), and on SQLite the
        # dashboard counted runs 1 and 2 actionable while every page said invalid_context.
        seen = _seen(engine, api)
    finally:
        engine.dispose()
    assert seen["listed"] == seen["explained"] == seen["changes"] == EXPECTED
    assert seen["follow_up"] == {i: s for i, s in EXPECTED.items() if s in (REVIEW, ACTIONABLE)}
    assert seen["counts"] == _counted(EXPECTED)
    assert {i: seen["reasons"][i] for i in (3, 5)} == dict.fromkeys((3, 5), "missing_correlation")
    for form, document in zip(("summary", "page", "page"), seen["forms"], strict=True):
        # What json.dumps can write, and what the shipped schema takes.
        form_validator(form).validate(json.loads(json.dumps(document)))


def test_a_subject_column_holding_a_huge_integer_names_no_subject(sql_engine: sa.Engine) -> None:
    # The reference mapping reads the subject column, and leaves a row whose context names
    # another subject to Python: a column equal to a huge integer's digits is one.
    _store(sql_engine, "jsonb", subjects=True)
    engine = fresh_engine(sql_engine)
    try:
        seen = _seen(engine, "sync", REFERENCE_RUNS)
    finally:
        engine.dispose()
    assert seen["listed"] == seen["explained"] == seen["changes"] == EXPECTED
    assert seen["counts"] == _counted(EXPECTED)
    assert {i: seen["reasons"][i] for i in (3, 5)} == dict.fromkeys((3, 5), "missing_correlation")


def test_memory_judges_a_huge_integer_as_the_sql_reads_it() -> None:
    # A host's own dicts hold Python ints, or the values a SQL store's context reads as.
    for read in (lambda text: json.loads(text, parse_int=_host_int), read_json_text):
        runs = [
            run(
                run_id,
                CHECK,
                outcome=outcome,
                workspace_id="w1",
                environment_id="e1",
                created_at=at(5 * run_id),
                completed_at=at(5 * run_id + 1),
                context=read(context),
            )
            for run_id, (outcome, context, _) in zip(IDS, CHECKS, strict=True)
        ]
        results = resolver(runs).evaluate_many(runs, as_of=AS_OF)
        assert {r.run_id: r.status.value for r in results} == EXPECTED
        form_validator("result").validate(json.loads(json.dumps(to_json(results[0]))))


def _host_int(digits: str) -> int:
    """The int a host holds for ``digits``, made past the process's digit limit."""
    if len(digits) <= 4300:
        return int(digits)
    sign = -1 if digits.startswith("-") else 1
    magnitude: int = 10 ** (len(digits.lstrip("-")) - 1)
    return sign * magnitude


def test_a_huge_integer_reads_as_the_float_of_its_exponent_spelling() -> None:
    assert read_json_text('{"n": ' + HUGE + "}") == {"n": float("inf")}
    assert read_json_text('{"n": [-' + HUGE + "]}") == {"n": [float("-inf")]}
    assert read_json_text('{"n": ' + LONGEST + "}") == {"n": int(LONGEST)}
    assert usable_id(int(LONGEST)) == LONGEST
    assert usable_id(_host_int(HUGE)) is None
    assert sys.get_int_max_str_digits() == 4300


def test_state_attributes_holding_a_huge_integer_still_prove_their_status(
    sql_engine: sa.Engine,
) -> None:
    # Before: psycopg's jsonb loader (PostgreSQL) and the tied rows' JSON text (SQLite) raised
    # ValueError, failing the evidence read (EvidenceFetchError) of every page of the workspace.
    create_schema(sql_engine)
    insert_raw(sql_engine, [raw_row(sql_engine, 1, type=CHECK, subject="c1")])
    postgresql = sql_engine.dialect.name == "postgresql"
    proven = at(60)  # after the failure completed
    with sql_engine.begin() as connection:
        connection.execute(
            sa.text(
                f"INSERT INTO {state_tables['provider_connection'].name} (workspace_id,"
                " environment_id, subject, status, proven_at, attributes) VALUES ('w1', 'e1',"
                " 'c1', 'healthy', :proven, "
                + ("CAST(:attributes AS jsonb))" if postgresql else ":attributes)")
            ),
            {
                "proven": proven if postgresql else to_micros(proven),
                "attributes": '{"n": ' + HUGE + ', "m": "kept"}',
            },
        )
    with ActionabilityService(sql_engine).session(scopes=W1, as_of=AS_OF) as session:
        told = session.explain(1)
        listed = [row["actionability"] for row in to_json(session.page(View.ALL))["runs"]]
        counts = session.dashboard().counts.by_status
    assert told is not None
    assert told.assessment.result.status is Actionability.RESOLVED_BY_CURRENT_STATE
    assert listed == ["resolved_by_current_state"]
    assert counts[Actionability.RESOLVED_BY_CURRENT_STATE] == 1
    assert getattr(told.assessment.result.proof, "attributes", None) == {
        "n": float("inf"),
        "m": "kept",
    }
    form_validator("explanation").validate(json.loads(json.dumps(to_json(told))))


def test_a_run_id_python_cannot_write_is_refused() -> None:
    # Before: the run was made, and its JSON form failed json.dumps (ValueError).
    for run_id in (_host_int(HUGE), -_host_int(HUGE)):
        with pytest.raises(ValueError, match=r"4,300 digits"):
            run(run_id, CHECK)
    longest = run(int(LONGEST), CHECK)
    written = json.dumps(to_json(resolver([longest]).evaluate(longest, as_of=AS_OF)))
    assert json.loads(written)["run_id"] == int(LONGEST)


@pytest.mark.parametrize(
    "field", ["workspace_id", "environment_id", "status", "outcome", "type", "created_at"]
)
def test_a_run_field_holding_an_int_python_cannot_write_is_shown_never_raised(field: str) -> None:
    # Before: evaluating raised ValueError where a record check quoted the workspace or
    # environment id, and a visible run's form (its status, outcome, type) failed json.dumps.
    huge = _host_int(HUGE)
    value = [huge] if field == "outcome" else huge
    fields: dict[str, Any] = {"type": CHECK, "workspace_id": "w1", "environment_id": "e1"}
    bad = run(1, **{**fields, field: value})
    results = resolver([bad]).evaluate_many([bad], as_of=AS_OF)
    assert [result.status.value for result in results] == [REVIEW]
    assert TOO_LONG_INTEGER in results[0].explanation
    assessed = assess(resolver([bad]), [bad], scopes=W1, as_of=AS_OF)
    shown: list[tuple[str, object]] = [("result", results[0])]
    shown += [("assessment", item) for item in assessed]
    for form, value_shown in shown:
        form_validator(form).validate(json.loads(json.dumps(to_json(value_shown))))
    if field == "workspace_id":
        assert assessed == []  # no usable workspace, so no scope shows it
    else:
        column = "operation_type" if field == "type" else field
        assert [to_json(item)[column] for item in assessed] == [TOO_LONG_INTEGER]


def test_a_limit_python_cannot_write_is_refused_as_any_bad_limit() -> None:
    # Before: ValueError from the message's reprlib.repr, not the UsageError of every bad limit.
    with pytest.raises(UsageError, match=re.escape(f"not {TOO_LONG_INTEGER}")):
        check_limit(_host_int(HUGE))
