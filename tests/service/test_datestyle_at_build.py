"""A PostgreSQL session whose DateStyle psycopg cannot read is refused when the service is built
(audit F8): before, every request failed with psycopg's raw ``NotImplementedError``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.support import AS_OF, run

from runactionability import ActionabilityService, ConfigurationError, VisibleScopes
from runactionability.adapters.sqlalchemy import create_schema, insert_runs


def _styled(engine: sa.Engine, style: str) -> sa.Engine:
    """An engine on ``engine``'s schema whose sessions use ``style``."""
    with engine.connect() as connection:
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
    options = f"-csearch_path={schema} -cDateStyle={style}"
    return sa.create_engine(engine.url, connect_args={"options": options})


@pytest.mark.parametrize("style", ["SQL,DMY", "German", "Postgres,MDY"])
def test_a_datestyle_psycopg_cannot_read_is_refused_at_build(
    sql_engine: sa.Engine, style: str
) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's DateStyle")
    create_schema(sql_engine)
    styled = _styled(sql_engine, style)
    try:
        with pytest.raises(ConfigurationError, match=r"DateStyle is '.*'.* set DateStyle to ISO"):
            ActionabilityService(styled)
    finally:
        styled.dispose()


def test_iso_in_any_order_is_read(sql_engine: sa.Engine) -> None:
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's DateStyle")
    create_schema(sql_engine)
    insert_runs(sql_engine, [run("1")])
    styled = _styled(sql_engine, "ISO,DMY")
    try:
        service = ActionabilityService(styled)
        with service.session(scopes=VisibleScopes({"acme"}), as_of=AS_OF) as session:
            assert session.dashboard(top=1).counts.total == 1
    finally:
        styled.dispose()
