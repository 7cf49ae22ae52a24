"""One retry label for a run, whichever path offers it (issue 9, item 6).

The memory consumers, the SQL pushdown's follow-up page (its items carry only a status; the
consumers label them) and the command line's JSON all show the label the run's type profile
gives (``TypeProfile.retry_label``), on SQLite and PostgreSQL, over the demo history.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from tests.cli.test_cli import database, ok_json  # noqa: F401 (database is a fixture)

from runactionability import ActionKind, Registry, Resolver
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.adapters.sqlalchemy import open_backend
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown
from runactionability.consumers import Assessment, View, VisibleScopes, assess, list_assessed
from runactionability.demo import Size, generate
from runactionability.service import MAX_LIMIT

DATA = generate(Size.SMALL)
REGISTRY = Registry.default(entry_points=False)
CATALOG = REGISTRY.catalog()
FAMILIES = REGISTRY.families()
SCOPES = VisibleScopes(sorted({str(run.workspace_id) for run in DATA.runs}))


def _retries(items: list[Assessment]) -> dict[Any, str]:
    return {
        item.run.id: item.primary_action.label
        for item in items
        if item.primary_action is not None and item.primary_action.kind is ActionKind.RETRY
    }


def _profile_label(type_name: str) -> str | None:
    op_type = CATALOG.resolve(type_name)
    assert op_type is not None
    return FAMILIES[op_type.family].profile(op_type, CATALOG).retry_label


def test_retry_labels_agree_across_memory_pushdown_and_cli(
    sql_engine: sa.Engine,
    database: str,  # noqa: F811 (the fixture imported above)
) -> None:
    kinds = {fact.kind for fact in DATA.states}
    memory = Resolver(
        history=MemoryRunHistory(DATA.runs),
        registry=REGISTRY,
        states={k: MemoryStateSource(k, [f for f in DATA.states if f.kind == k]) for k in kinds},
    )
    in_memory = _retries(assess(memory, DATA.runs, scopes=SCOPES, as_of=DATA.as_of))

    backend = open_backend(sql_engine)
    resolver = Resolver(history=backend.history, states=backend.states, registry=REGISTRY)
    page = list_assessed(
        backend.runs,
        resolver,
        scopes=SCOPES,
        as_of=DATA.as_of,
        view=View.CURRENT_FOLLOW_UP,
        limit=MAX_LIMIT,
        store=SqlPushdown(sql_engine, registry=REGISTRY),
    )
    pushed = _retries(list(page.items))

    listed = ok_json("list", "--database", database, "--current-follow-up", "--limit", "10000")
    from_cli = {
        row["run_id"]: row["primary_action"]["label"]
        for row in listed["runs"]
        if row["primary_action"] is not None and row["primary_action"]["kind"] == "retry"
    }

    assert len(in_memory) >= 2
    assert pushed == in_memory
    assert from_cli == in_memory
    by_id = {run.id: run for run in DATA.runs}
    for run_id, label in in_memory.items():
        assert label == _profile_label(str(by_id[run_id].type)), run_id
