"""A run with a large context (an error log, a stack trace) is stored and read like any other.

The PostgreSQL reference schema's problem-row indexes once held ``context`` in their ``INCLUDE``
list; a B-tree entry is limited to 2,704 bytes, so inserting a *failed* run whose context was a
few KB of incompressible text failed (``index row size ... exceeds btree version 4 maximum``),
while a succeeded run with the same context was stored: exactly the runs that need attention
were lost. SQLite's index records overflow to further pages, so it never had the limit.
"""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, ROOT
from tests.support import stored_run as run

from runactionability import ActionabilityService, VisibleScopes, to_json
from runactionability.adapters.sqlalchemy import create_schema, insert_runs, metadata

CHECK = "provider.connection.check"


def _log(characters: int) -> str:
    """Text that does not compress (PostgreSQL compresses a large index entry before refusing)."""
    digests = (hashlib.sha256(str(n).encode()).hexdigest() for n in range(characters // 64 + 1))
    return "".join(digests)[:characters]


def test_failed_runs_with_large_contexts_are_stored_and_read(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    runs = [
        # Superseded by run 2, which carries as large a context.
        run(1, CHECK, start=0, context={"provider_connection_id": 7, "error": _log(4_000)}),
        run(
            2,
            CHECK,
            start=5,
            outcome="succeeded",
            context={"provider_connection_id": 7, "log": _log(4_000)},
        ),
        # Nothing resolves these: they need attention.
        run(3, CHECK, start=10, context={"provider_connection_id": 8, "error": _log(100_000)}),
        run(4, start=15, outcome="blocked", context={"trace": _log(1_000_000)}),
        # Not an object: the check that reads the context still sees it.
        run(5, start=20, context=[_log(8_000)]),
    ]
    assert insert_runs(sql_engine, runs, catalog=CATALOG) == len(runs)
    service = ActionabilityService(sql_engine, catalog=CATALOG)
    expected = {
        1: "superseded_by_later_success",
        2: "informational_only",
        3: "actionable",
        4: "actionable",
        5: "requires_manual_review",
    }
    with service.session(scopes=VisibleScopes({"w1"}), as_of=AS_OF) as session:
        explained = {
            run_id: to_json(session.explain(run_id))["run"]["actionability"] for run_id in expected
        }
        follow_up = [row["run_id"] for row in to_json(session.follow_up_page())["runs"]]
        counts = to_json(session.dashboard(top=0))["by_status"]
        told = session.explain(4)
        assert told is not None
        context = told.assessment.run.context
    assert explained == expected
    assert follow_up == [5, 4, 3]
    assert {status: n for status, n in counts.items() if n} == {
        "superseded_by_later_success": 1,
        "informational_only": 1,
        "actionable": 2,
        "requires_manual_review": 1,
    }
    assert context == {"trace": _log(1_000_000)}


# Compiles only: an engine connects on first use, never here.
POSTGRESQL = sa.create_engine("postgresql+psycopg://").dialect


def test_the_upgrade_statements_in_the_docs_create_the_schemas_indexes() -> None:
    """A database created before the fix keeps its old indexes: the docs give what to run."""
    page = (ROOT / "docs" / "performance.md").read_text()
    section = page.split("**A database created by an older version**", 1)[1]
    block = re.search(r"^```text\n(.*?)^```", section, re.S | re.M)
    assert block is not None
    documented = [" ".join(s.split()) for s in block.group(1).split(";") if s.strip()]
    pg = [
        index
        for index in metadata.tables["operation_runs"].indexes
        if re.fullmatch(r"ix_operation_runs_problem_\w+_desc", str(index.name))
    ]
    created = {
        " ".join(str(sa.schema.CreateIndex(index).compile(dialect=POSTGRESQL)).split())
        for index in pg
    }
    assert {s.replace(" CONCURRENTLY", "") for s in documented if s.startswith("CREATE")} == created
    dropped = {s.rsplit(" ", 1)[1] for s in documented if s.startswith("DROP")}
    assert dropped == {index.name for index in pg}
