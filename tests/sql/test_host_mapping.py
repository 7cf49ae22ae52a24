"""A host points the adapter at its own tables, names and vocabulary."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, at, form_validator

from runactionability import (
    Actionability,
    LaterSuccessRequest,
    MappingMismatchWarning,
    MissingStateSourceWarning,
    Reason,
    Resolver,
    RunQuery,
    RunStatus,
    StateRequest,
    VisibleScopes,
)
from runactionability.adapters.sqlalchemy import (
    JsonDocument,
    RunTableMapping,
    StateTableMapping,
    UtcTimestamp,
    create_schema,
    open_backend,
    operation_runs,
)
from runactionability.adapters.sqlalchemy.mapping import UnmappedValue
from runactionability.service import ActionabilityService
from runactionability.terms import run_status_name

# The host's own schema: other table and column names, the subject inside a JSON payload.
host = sa.MetaData()
job_log = sa.Table(
    "job_log",
    host,
    sa.Column("job_id", sa.String(40), primary_key=True),
    sa.Column("job_kind", sa.String(100)),
    sa.Column("tenant", sa.String(100)),
    sa.Column("env", sa.String(100)),
    sa.Column("state", sa.String(20)),
    sa.Column("result", sa.String(20)),
    sa.Column("queued_at", UtcTimestamp()),
    sa.Column("began_at", UtcTimestamp()),
    sa.Column("ended_at", UtcTimestamp()),
    sa.Column("payload", JsonDocument()),
)
connections = sa.Table(
    "connections",
    host,
    sa.Column("tenant", sa.String(100)),
    sa.Column("env", sa.String(100)),
    sa.Column("connection_id", sa.String(100)),
    sa.Column("health", sa.String(20)),
    sa.Column("checked_at", UtcTimestamp()),
)

JOBS = RunTableMapping(
    table="job_log",
    id="job_id",
    type="job_kind",
    workspace_id="tenant",
    environment_id="env",
    status="state",
    outcome="result",
    created_at="queued_at",
    started_at="began_at",
    completed_at="ended_at",
    context="payload",
    subject=None,
    statuses={"waiting": "queued", "active": "running", "done": "completed"},
    outcomes={"ok": "succeeded", "error": "failed", "refused": "blocked", "stopped": "cancelled"},
    ids={"run": "text"},
)
CONNECTIONS = StateTableMapping(
    kind="provider_connection",
    table="connections",
    workspace_id="tenant",
    environment_id="env",
    subject="connection_id",
    status="health",
    proven_at="checked_at",
    attributes=None,
    statuses={"up": "healthy", "down": "failing"},
)
CHECK = "provider.connection.check"


def job(job_id: str, result: str | None, start: float, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "job_id": job_id,
        "job_kind": CHECK,
        "tenant": "acme",
        "env": "prod",
        "state": "done" if result else "active",
        "result": result,
        "queued_at": at(start),
        "began_at": at(start),
        "ended_at": at(start + 1) if result else None,
        "payload": {"provider_connection_id": "c1"},
    }
    row.update(fields)
    return row


def connection(subject: str, health: str, proven: float) -> dict[str, Any]:
    return {
        "tenant": "acme",
        "env": "prod",
        "connection_id": subject,
        "health": health,
        "checked_at": at(proven),
    }


@pytest.fixture
def backend(sql_engine: sa.Engine) -> Any:
    host.create_all(sql_engine)
    with sql_engine.begin() as db:
        db.execute(
            job_log.insert(),
            [
                # c1: refused, then fixed (the connection is up, checked afterwards).
                job("j1", "refused", 0),
                # c2: failed, then a later check succeeded; the payload holds the id as a number.
                job("j2", "error", 10, payload={"provider_connection_id": "42"}),
                job("j3", "ok", 20, payload={"provider_connection_id": 42}),
                # c3: failed and nothing since; the connection is down.
                job("j4", "error", 30, payload={"provider_connection_id": "c3"}),
                # An outcome the host's vocabulary does not know, and a job still running.
                job("j5", "exploded", 40),
                job("j6", None, 50),
            ],
        )
        db.execute(
            connections.insert(),
            [connection("c1", "up", 5), connection("c3", "down", 35)],
        )
    return open_backend(
        sql_engine, runs=JOBS, states={"provider_connection": CONNECTIONS}, catalog=CATALOG
    )


def test_a_host_table_is_judged_with_its_own_vocabulary(backend: Any) -> None:
    page = backend.runs.list_runs(RunQuery(workspace_ids={"acme"}), limit=10)
    assert [r.id for r in page.runs] == ["j6", "j5", "j4", "j3", "j2", "j1"]
    assert page.runs[-1].status is RunStatus.COMPLETED
    # This host keeps only connection states; the other families can still be superseded.
    with pytest.warns(MissingStateSourceWarning):
        resolver = Resolver(
            history=backend.history, states=backend.states, registry=REGISTRY, catalog=CATALOG
        )
    results = {r.run_id: r for r in resolver.evaluate_many(page.runs, as_of=AS_OF)}
    assert {run_id: r.status for run_id, r in results.items()} == {
        "j1": Actionability.RESOLVED_BY_CURRENT_STATE,
        "j2": Actionability.SUPERSEDED_BY_LATER_SUCCESS,
        "j3": Actionability.INFORMATIONAL_ONLY,
        "j4": Actionability.ACTIONABLE,
        "j5": Actionability.REQUIRES_MANUAL_REVIEW,
        "j6": Actionability.NOT_TERMINAL,
    }
    assert getattr(results["j1"].proof, "status", None) == "healthy"
    assert getattr(results["j2"].proof, "run_id", None) == "j3"
    assert results["j5"].reason == Reason.INVALID_OUTCOME


def test_listing_filters_translate_to_the_hosts_values(backend: Any) -> None:
    query = RunQuery(workspace_ids={"acme"}, statuses={RunStatus.RUNNING})
    assert [r.id for r in backend.runs.list_runs(query).runs] == ["j6"]
    assert backend.runs.get_run("j3").outcome == "succeeded"
    assert backend.runs.get_run("j9") is None


def test_library_words_the_host_vocabulary_does_not_list_are_flagged(sql_engine: sa.Engine) -> None:
    host.create_all(sql_engine)
    with sql_engine.begin() as db:
        db.execute(
            job_log.insert(),
            [
                job("u1", "succeeded", 0),
                job("u2", "cancelled", 10),
                job("u3", None, 20, state="running"),
            ],
        )
    backend = open_backend(sql_engine, runs=JOBS, states={}, catalog=CATALOG)
    runs = {r.id: r for r in backend.runs.list_runs(RunQuery(workspace_ids={"acme"})).runs}
    assert runs["u1"].outcome == UnmappedValue("succeeded")
    assert runs["u3"].status == UnmappedValue("running")
    with pytest.warns(MissingStateSourceWarning):
        resolver = Resolver(history=backend.history, states={}, registry=REGISTRY, catalog=CATALOG)
    results = {r.run_id: r for r in resolver.evaluate_many(list(runs.values()), as_of=AS_OF)}
    assert {run_id: (r.status, r.reason) for run_id, r in results.items()} == {
        "u1": (Actionability.REQUIRES_MANUAL_REVIEW, Reason.INVALID_OUTCOME),
        "u2": (Actionability.REQUIRES_MANUAL_REVIEW, Reason.INVALID_OUTCOME),
        "u3": (Actionability.REQUIRES_MANUAL_REVIEW, Reason.INVALID_STATUS),
    }
    assert "'succeeded'" in results["u1"].explanation
    # Nor is the stored "succeeded" a later success that would supersede a failure.
    assert (
        backend.history.latest_successes(
            [
                LaterSuccessRequest(
                    operation_types=(CHECK,),
                    workspace_id="acme",
                    environment_id="prod",
                    subject="c1",
                    subject_key="provider_connection_id",
                )
            ],
            as_of=AS_OF,
        )
        == {}
    )


def test_a_state_the_host_vocabulary_does_not_list_is_no_fact(backend: Any) -> None:
    # The newest row of c1 holds the policies' own word, which this host does not use.
    with backend.history.bind.begin() as db:
        db.execute(connections.insert(), connection("c1", "healthy", 8))
    request = StateRequest(
        kind="provider_connection", workspace_id="acme", environment_id="prod", subject="c1"
    )
    assert backend.states["provider_connection"].current_states([request]) == {}
    with pytest.warns(MissingStateSourceWarning):
        resolver = Resolver(
            history=backend.history, states=backend.states, registry=REGISTRY, catalog=CATALOG
        )
    refused = backend.runs.get_run("j1")
    assert resolver.evaluate(refused, as_of=AS_OF).status is Actionability.ACTIONABLE


def test_a_subject_column_fills_a_context_that_lacks_it(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    started: datetime = at(0)
    with sql_engine.begin() as db:
        db.execute(
            operation_runs.insert(),
            [
                {
                    "id": 1,
                    "type": CHECK,
                    "workspace_id": "w1",
                    "environment_id": "e1",
                    "status": "completed",
                    "outcome": "failed",
                    "created_at": started,
                    "completed_at": at(1),
                    "subject": "c1",
                    "context": {},
                }
            ],
        )
    with_catalog = open_backend(sql_engine, catalog=CATALOG).runs.get_run(1)
    without = open_backend(sql_engine).runs.get_run(1)
    assert with_catalog is not None
    assert without is not None
    assert dict(with_catalog.context) == {"provider_connection_id": "c1"}
    assert dict(without.context) == {}


UNKNOWN_TEXTS = {
    "en": ("The run's status 'paused' is not known.", "The run's outcome 'exploded' is not known."),
    "de": (
        "Der Status 'paused' des Laufs ist unbekannt.",
        "Das Ergebnis 'exploded' des Laufs ist unbekannt.",
    ),
}


@pytest.mark.parametrize("locale", ["en", "de"])
def test_an_unmapped_value_is_shown_as_stored_in_json_and_text(
    sql_engine: sa.Engine, locale: str
) -> None:
    # A host reads its own word ("paused") in what the library shows, never the Python repr of
    # the marker that keeps the core from guessing a meaning for it.
    host.create_all(sql_engine)
    with sql_engine.begin() as db:
        db.execute(
            job_log.insert(),
            [job("p1", None, 0, state="paused"), job("p2", "exploded", 10)],
        )
    with (
        pytest.warns(MissingStateSourceWarning),
        # Said at build too, as doctor's unmapped_value says it.
        pytest.warns(MappingMismatchWarning, match=r"job_log\.state: .* 'paused' \(1\)"),
    ):
        service = ActionabilityService(sql_engine, runs=JOBS, states={}, catalog=CATALOG)
    with service.session(scopes=VisibleScopes({"acme"}), as_of=AS_OF, locale=locale) as session:
        status = session.to_json(session.explain("p1"))
        outcome = session.to_json(session.explain("p2"))
        shown = session.render(run_status_name(UnmappedValue("paused")))
    validator = form_validator("explanation")
    validator.validate(status)
    validator.validate(outcome)
    assert (status["run"]["status"], status["run"]["outcome"]) == ("paused", None)
    assert (outcome["run"]["status"], outcome["run"]["outcome"]) == ("completed", "exploded")
    assert status["run"]["explanation_message"]["params"] == {"status": "'paused'"}
    assert outcome["run"]["explanation_message"]["params"] == {"outcome": "'exploded'"}
    assert (status["run"]["explanation"], outcome["run"]["explanation"]) == UNKNOWN_TEXTS[locale]
    assert shown == "paused"
    assert "Unmapped" not in json.dumps([status, outcome])
