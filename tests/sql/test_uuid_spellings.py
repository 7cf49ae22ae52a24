"""A caller's uuid spelled other than its stored text (upper case, braces, ``urn:uuid:``, 32 hex
digits) is refused with the spelling to use, wherever it meets a uuid column: it used to match
nothing, silently (no run, an empty dashboard), while the core compares the lowercase text."""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, at

from runactionability import (
    ActionabilityService,
    MissingStateSourceWarning,
    UsageError,
    VisibleScopes,
    to_json,
)
from runactionability.adapters.sqlalchemy import (
    JsonDocument,
    RunTableMapping,
    SqlRunSource,
    UtcTimestamp,
)
from runactionability.adapters.sqlalchemy.pushdown import SqlPushdown

RUNS = RunTableMapping(
    table="uuid_scoped_runs",
    subject=None,
    ids={"run": "uuid", "workspace": "uuid", "environment": "uuid"},
)
WS, ENV, RUN = (str(uuid.UUID(int=n * 0xABCDEF)) for n in (1, 2, 3))


def spellings(text: str) -> list[str]:
    parsed = uuid.UUID(text)
    return [text.upper(), f"{{{text}}}", f"urn:uuid:{text}", parsed.hex]


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    table = sa.Table(
        "uuid_scoped_runs",
        sa.MetaData(),
        sa.Column("id", sa.Uuid(as_uuid=False), primary_key=True),
        sa.Column("workspace_id", sa.Uuid(as_uuid=False)),
        sa.Column("environment_id", sa.Uuid(as_uuid=False)),
        *(sa.Column(name, sa.Text()) for name in ("type", "status", "outcome")),
        *(sa.Column(name, UtcTimestamp()) for name in ("created_at", "started_at")),
        sa.Column("completed_at", UtcTimestamp()),
        sa.Column("context", JsonDocument()),
    )
    table.create(sql_engine)
    row: dict[str, Any] = {"id": RUN, "workspace_id": WS, "environment_id": ENV}
    row |= {"type": "inventory.sync", "status": "completed", "outcome": "failed"}
    row |= {"created_at": at(0), "started_at": None, "completed_at": at(1), "context": {}}
    with sql_engine.begin() as db:
        db.execute(table.insert(), [row])
    return sql_engine


def test_a_run_id_in_another_spelling_is_refused(engine: sa.Engine) -> None:
    source = SqlRunSource(engine, RUNS)
    run = source.get_run(RUN)
    assert run is not None
    assert run.id == RUN
    for spelled in spellings(RUN):
        with pytest.raises(UsageError, match=f"pass '{RUN}'"):
            source.get_run(spelled)
    # Text that names no uuid at all is no run, as before.
    assert source.get_run("not-a-uuid") is None


def test_scopes_in_another_spelling_are_refused_by_every_reader(engine: sa.Engine) -> None:
    source = SqlRunSource(engine, RUNS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingStateSourceWarning)
        pushdown = SqlPushdown(engine, runs=RUNS, states={}, registry=REGISTRY, catalog=CATALOG)
    assert [run.id for run in source.list_runs(VisibleScopes({WS}).query()).runs] == [RUN]
    for scopes in [VisibleScopes({s}) for s in spellings(WS)] + [
        VisibleScopes({WS}, environment_ids={s}) for s in spellings(ENV)
    ]:
        with pytest.raises(UsageError, match="spells a uuid"):
            source.list_runs(scopes.query())
        with pytest.raises(UsageError, match="spells a uuid"):
            pushdown.follow_up_page(scopes, as_of=AS_OF)


def test_a_session_refuses_them_instead_of_showing_nothing(engine: sa.Engine) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingStateSourceWarning)
        service = ActionabilityService(
            engine, runs=RUNS, states={}, registry=REGISTRY, catalog=CATALOG
        )
    with service.session(scopes=VisibleScopes({WS}), as_of=AS_OF) as session:
        assert to_json(session.dashboard(top=5))["total"] == 1
        assert session.explain(RUN) is not None
        with pytest.raises(UsageError, match="spells a uuid"):
            session.explain(RUN.upper())
    for spelled in spellings(WS):
        with service.session(scopes=VisibleScopes({spelled}), as_of=AS_OF) as session:
            for read in (
                lambda: session.dashboard(top=5),
                session.follow_up_page,
                session.history_page,
                lambda: session.changes(since=at(-10)),
                lambda: session.environments_with_runs({ENV}),
            ):
                with pytest.raises(UsageError, match="spells a uuid"):
                    read()
