"""ISO-text ``created_at`` values in both spellings (``'T'`` and ``' '``) list out of order.

Pages order by the stored text (what the index holds): with both separators in one column the
follow-up list put a run created at 12:50 above one created at 13:00, unlike the memory adapter,
and ``doctor`` said nothing. Paging stays whole (no run skipped or repeated); ``doctor`` now
reports the mixed spellings as an error with the rewrite, which restores the order. A fraction
of another precision is no such case: it sorts as its time does.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, CATALOG, REGISTRY, sql_ports, stored_copy, stored_run

from runactionability import ActionabilityService, VisibleScopes
from runactionability.adapters.sqlalchemy import check
from runactionability.findings import FindingCode

W1 = VisibleScopes({"w1"})
NEWEST_FIRST = [6, 5, 4, 3, 2, 1]
"""Run n is created at T0 + 10n minutes."""


@pytest.fixture
def tables(sql_engine: sa.Engine) -> Any:
    sql_ports(sql_engine, [stored_run(n, start=n * 10, outcome="failed") for n in range(1, 7)], [])
    storage = "iso_text" if sql_engine.dialect.name == "sqlite" else "iso_text:UTC"
    return stored_copy(sql_engine, storage)


def _rewrite(engine: sa.Engine, table: str, statement: str, ids: list[int]) -> None:
    listed = ", ".join(map(str, ids))
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"UPDATE {table} SET created_at = {statement} WHERE id IN ({listed})")
        )


def _pages(engine: sa.Engine, tables: Any) -> tuple[list[Any], list[Any]]:
    runs, states = tables
    service = ActionabilityService(
        engine, runs=runs, states=states, registry=REGISTRY, catalog=CATALOG
    )
    with service.session(scopes=W1, as_of=AS_OF) as session:
        whole = [item.run.id for item in session.follow_up_page(limit=50).items]
        paged: list[Any] = []
        cursor = None
        for _ in range(10):
            page = session.follow_up_page(limit=1, cursor=cursor)
            paged += [item.run.id for item in page.items]
            if (cursor := page.next_cursor) is None:
                break
    return whole, paged


def _spellings(engine: sa.Engine, tables: Any) -> list[Any]:
    report = check(engine, tables[0], states=tables[1], as_of=AS_OF)
    return [f for f in report.findings if f.code is FindingCode.MIXED_TIMESTAMP_SPELLINGS]


def test_doctor_reports_both_separators_and_its_fix_restores_the_order(
    sql_engine: sa.Engine, tables: Any
) -> None:
    table = tables[0].table
    _rewrite(sql_engine, table, "replace(created_at, ' ', 'T')", [1, 3, 5])
    whole, paged = _pages(sql_engine, tables)
    assert paged == whole
    assert sorted(whole) == sorted(NEWEST_FIRST)
    found = _spellings(sql_engine, tables)
    assert [(f.count, f.column) for f in found] == [(3, "created_at")]
    assert found[0].fix is not None
    with sql_engine.begin() as connection:
        connection.execute(sa.text(found[0].fix.partition(";")[0]))
    assert _pages(sql_engine, tables) == (NEWEST_FIRST, NEWEST_FIRST)
    assert _spellings(sql_engine, tables) == []


def test_a_fraction_of_another_precision_orders_as_its_time(
    sql_engine: sa.Engine, tables: Any
) -> None:
    table = tables[0].table
    # '... 12:40:00' and '... 12:20:00.0' beside six-digit fractions.
    _rewrite(sql_engine, table, "substr(created_at, 1, 19)", [4])
    _rewrite(sql_engine, table, "substr(created_at, 1, 21)", [2])
    assert _pages(sql_engine, tables) == (NEWEST_FIRST, NEWEST_FIRST)
    assert _spellings(sql_engine, tables) == []
