"""The SQL classification under hostile data agrees with the ports (issue 8, findings 1-3, 14).

The same histories as ``tests/sql/test_hostile_evidence.py``, asked of the pushdown's statuses,
counts and follow-up pages, in both forms of the later-success test, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from tests.sql.test_hostile_evidence import (
    BIG,
    CI_JSON_RUNS,
    CI_RUNS,
    CI_STATES,
    CORRUPT,
    HOSTILE_VOCABULARY,
    JSON_RUNS,
    OTHER_CASE,
    check,
    ci_tables,
    create_case_insensitive,
    hostile_vocabulary_rows,
    set_real,
    store_runs,
)
from tests.support import AS_OF, CATALOG, REGISTRY, at

from runactionability import OperationRun, UsageError
from runactionability.adapters.sqlalchemy import (
    REFERENCE_RUNS,
    RunTableMapping,
    StateTableMapping,
    create_schema,
    insert_runs,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown, SupersedeForm
from runactionability.consumers import VisibleScopes
from runactionability.result import Actionability

ACME = VisibleScopes({"acme"})


@pytest.fixture
def case_insensitive(sql_engine: sa.Engine) -> sa.Engine:
    return create_case_insensitive(sql_engine)


FORMS = [SupersedeForm.EXISTS, SupersedeForm.GROUPED]


def pushdown(
    engine: sa.Engine,
    runs: RunTableMapping = REFERENCE_RUNS,
    states: dict[str, StateTableMapping] | None = None,
    form: SupersedeForm | None = None,
) -> SqlPushdown:
    return SqlPushdown(
        engine, runs=runs, states=states or {}, registry=REGISTRY, catalog=CATALOG, form=form
    )


def statuses(
    engine: sa.Engine,
    form: SupersedeForm,
    runs: RunTableMapping = REFERENCE_RUNS,
    states: dict[str, StateTableMapping] | None = None,
    scopes: VisibleScopes = ACME,
) -> dict[Any, Actionability]:
    """The classification, and the follow-up page in the same form, which must agree."""
    answer = pushdown(engine, runs, states, form)
    classified = answer.classify(scopes, as_of=AS_OF)
    page = answer.follow_up_page(scopes, as_of=AS_OF, limit=50)
    assert {item.run.id: item.status for item in page.items} == {
        run_id: status for run_id, status in classified.items() if status.needs_attention
    }
    counts = answer.count(scopes, as_of=AS_OF).counts
    assert counts.total == len(classified)
    for status in Actionability:
        assert counts.by_status[status] == sum(1 for s in classified.values() if s is status)
    return classified


# -- finding 1 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("mapping", [CI_RUNS, CI_JSON_RUNS], ids=["subject column", "json"])
@pytest.mark.parametrize("differs", sorted(OTHER_CASE))
def test_a_success_under_another_case_never_supersedes(
    case_insensitive: sa.Engine, differs: str, mapping: RunTableMapping, form: SupersedeForm
) -> None:
    failure = check(1, "failed", 0)
    # Also under the scope's own case, a success elsewhere: the grouped form must not merge them.
    elsewhere = check(2, "succeeded", 5, **OTHER_CASE[differs])
    store_runs(case_insensitive, "ci_runs", [failure, elsewhere])
    found = statuses(case_insensitive, form, mapping)
    expected = {1: Actionability.ACTIONABLE}
    if differs != "workspace":
        expected[2] = Actionability.INFORMATIONAL_ONLY
    assert found == expected


@pytest.mark.parametrize("form", FORMS)
def test_runs_of_another_case_are_neither_listed_nor_counted(
    case_insensitive: sa.Engine, form: SupersedeForm
) -> None:
    store_runs(
        case_insensitive,
        "ci_runs",
        [check(1, "failed", 0), check(2, "failed", 1, workspace_id="ACME")],
    )
    assert statuses(case_insensitive, form, CI_RUNS) == {1: Actionability.ACTIONABLE}
    two = VisibleScopes({"acme", "globex"}, environment_ids={"prod", "qa"})
    assert statuses(case_insensitive, form, CI_RUNS, scopes=two) == {1: Actionability.ACTIONABLE}
    upper = VisibleScopes({"acme"}, environment_ids={"PROD"})
    assert statuses(case_insensitive, form, CI_RUNS, scopes=upper) == {}


@pytest.mark.parametrize("form", FORMS)
def test_a_state_under_another_case_never_resolves(
    case_insensitive: sa.Engine, form: SupersedeForm
) -> None:
    store_runs(case_insensitive, "ci_runs", [check(1, "failed", 0)])
    _, states = ci_tables(case_insensitive.dialect.name)
    healthy = {"environment_id": "prod", "status": "healthy", "proven_at": at(30)}
    with case_insensitive.begin() as connection:
        connection.execute(
            states.insert(),
            [
                {**healthy, "workspace_id": "ACME", "subject": "c1"},
                {**healthy, "workspace_id": "acme", "subject": "C1"},
                {**healthy, "workspace_id": "acme", "environment_id": "PROD", "subject": "c1"},
            ],
        )
    found = statuses(case_insensitive, form, CI_RUNS, {"provider_connection": CI_STATES})
    assert found == {1: Actionability.ACTIONABLE}


def test_visible_scopes_refuse_an_id_holding_nul() -> None:
    # SQLite's JSON functions end a text at U+0000: a visible 'w1\0x' read as 'w1' and showed
    # w1's runs to an actor of another workspace.
    with pytest.raises(UsageError):
        VisibleScopes({"w1\x00x", "w2"})


# -- finding 2 ----------------------------------------------------------------------------------


@pytest.fixture
def reference(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    return sql_engine


def load(engine: sa.Engine, runs: list[OperationRun]) -> None:
    insert_runs(engine, runs, catalog=CATALOG)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("fault", sorted(CORRUPT))
def test_a_corrupt_success_never_supersedes(
    reference: sa.Engine, fault: str, form: SupersedeForm
) -> None:
    load(reference, [check(1, "failed", 0), check(2, "succeeded", 5, **CORRUPT[fault])])
    assert statuses(reference, form)[1] is Actionability.ACTIONABLE


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("fault", sorted(CORRUPT))
def test_the_same_fault_on_a_failed_run_is_flagged(
    reference: sa.Engine, fault: str, form: SupersedeForm
) -> None:
    load(reference, [check(1, "failed", 5, **CORRUPT[fault])])
    assert statuses(reference, form) == {1: Actionability.REQUIRES_MANUAL_REVIEW}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("column", ["created_at", "started_at", "completed_at"])
def test_a_real_timestamp_is_no_evidence(
    reference: sa.Engine, column: str, form: SupersedeForm
) -> None:
    if reference.dialect.name != "sqlite":
        pytest.skip("only SQLite stores a REAL in a timestamp column")
    load(reference, [check(1, "failed", 0), check(2, "succeeded", 5, started_at=at(5))])
    set_real(reference, 2, column)
    assert statuses(reference, form) == {
        1: Actionability.ACTIONABLE,
        2: Actionability.INFORMATIONAL_ONLY,
    }


@pytest.mark.parametrize("form", FORMS)
def test_a_bad_scope_id_stays_bad_in_sql(reference: sa.Engine, form: SupersedeForm) -> None:
    load(
        reference,
        [
            check(1, "failed", 0, workspace_id="True"),
            check(2, "succeeded", 5, workspace_id=True),
        ],
    )
    assert statuses(reference, form, scopes=VisibleScopes({"True"})) == {
        1: Actionability.ACTIONABLE
    }


# -- finding 3 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("subject", [BIG + 1, 2**63, -(2**63) - 1, 10**40])
def test_a_json_subject_beyond_64_bits_compares_exactly(
    reference: sa.Engine, subject: int, form: SupersedeForm
) -> None:
    load(
        reference,
        [
            check(1, "failed", 0, context={"provider_connection_id": subject}),
            check(2, "succeeded", 5, context={"provider_connection_id": subject + 1}),
            check(3, "failed", 0, context={"provider_connection_id": subject + 2}),
            check(4, "succeeded", 5, context={"provider_connection_id": subject + 2}),
        ],
    )
    assert statuses(reference, form, JSON_RUNS) == {
        1: Actionability.ACTIONABLE,
        2: Actionability.INFORMATIONAL_ONLY,
        3: Actionability.SUPERSEDED_BY_LATER_SUCCESS,
        4: Actionability.INFORMATIONAL_ONLY,
    }


# -- finding 14 ---------------------------------------------------------------------------------


@pytest.fixture
def nonstandard_strings(sql_engine: sa.Engine) -> Iterator[sa.Engine]:
    """On PostgreSQL, an engine on the same schema whose sessions read backslashes as escapes."""
    if sql_engine.dialect.name != "postgresql":
        yield sql_engine
        return
    with sql_engine.connect() as connection:
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
    options = f"-csearch_path={schema} -cstandard_conforming_strings=off"
    engine = sa.create_engine(sql_engine.url, connect_args={"options": options})
    yield engine
    engine.dispose()


@pytest.mark.parametrize("form", FORMS)
def test_vocabulary_values_are_never_sql_text(
    nonstandard_strings: sa.Engine, form: SupersedeForm
) -> None:
    hostile_vocabulary_rows(nonstandard_strings)
    assert statuses(nonstandard_strings, form, HOSTILE_VOCABULARY) == {
        1: Actionability.SUPERSEDED_BY_LATER_SUCCESS,
        2: Actionability.INFORMATIONAL_ONLY,
        3: Actionability.ACTIONABLE,
    }


# The row goes to the resolver, which has no state sources here (and says so).
@pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")
@pytest.mark.parametrize("form", FORMS)
def test_a_context_subject_of_another_case_than_the_column_is_judged_in_python(
    case_insensitive: sa.Engine, form: SupersedeForm
) -> None:
    # The resolver correlates on the context's 'C1' (the run source keeps it); the column's
    # 'c1' only equals it under the column's collation, so the classification must not seek
    # on the column.
    failure = check(1, "failed", 0, context={"provider_connection_id": "C1"})
    store_runs(case_insensitive, "ci_runs", [failure, check(2, "succeeded", 5)])
    with case_insensitive.begin() as connection:
        connection.execute(sa.text("UPDATE ci_runs SET subject = 'c1'"))
    assert statuses(case_insensitive, form, CI_RUNS) == {
        1: Actionability.ACTIONABLE,
        2: Actionability.INFORMATIONAL_ONLY,
    }
