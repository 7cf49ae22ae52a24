"""A request on a runs table without a proven unique id sends no read by id once its session has
found that no two rows of its scopes share an id (review F2). Each batch used to read its runs'
ids again (the active runs', the proofs', the page's): 9 statements for a demo request on SQLite,
where the reference schema's primary key needed 5; the session's one ``shares_ids`` answer spares
them, and the request sends the keyed table's statements (4 since the count is one statement)
and that one."""

from __future__ import annotations

import sqlalchemy as sa

from runactionability import ActionabilityService, Registry, VisibleScopes
from runactionability.demo import Size, generate, load, read_marker
from runactionability.testing import count_statements

SCOPES = VisibleScopes({"acme", "globex"})


def _request(engine: sa.Engine) -> tuple[list[str], list[object]]:
    """The statements of a demo request (dashboard, follow-up page, active work, an
    explanation), and its answers."""
    marker = read_marker(engine)
    assert marker is not None
    as_of = marker.as_of
    service = ActionabilityService(engine)
    with (
        service.session(scopes=SCOPES, as_of=as_of) as session,
        count_statements(engine) as counted,
    ):
        summary = session.dashboard()
        page = session.follow_up_page()
        work = session.active_work()
        told = session.explain(page.items[-1].run_id)
        answers = [session.to_json(answer) for answer in (summary, page, work, told)]
    return counted.statements, answers


def test_a_keyless_table_without_shared_ids_sends_what_a_keyed_one_does(
    sql_engine: sa.Engine,
) -> None:
    load(sql_engine, generate(Size.SMALL, catalog=Registry.default().catalog()))
    keyed, answers = _request(sql_engine)
    with sql_engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE copied AS SELECT * FROM operation_runs"))
        connection.execute(sa.text("DROP TABLE operation_runs"))
        connection.execute(sa.text("ALTER TABLE copied RENAME TO operation_runs"))
    keyless, same = _request(sql_engine)
    assert same == answers
    assert [text for text in keyless if "operation_runs.id IN" in text] == []
    # The one statement more: whether two rows of the scopes share an id. (PostgreSQL's
    # snapshot begins with a statement of its own, REPEATABLE READ.)
    assert len(keyless) == len(keyed) + 1 == {"sqlite": 5, "postgresql": 6}[sql_engine.name]
