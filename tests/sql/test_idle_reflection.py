"""Build-time reads leave a host's Connection as they found it.

SQLAlchemy 2 autobegins a transaction on a Connection's first statement. Reflecting a mapping,
listing its mismatches or building a service from a configuration on a host's idle Connection
once left that transaction open: the host's own ``begin()`` then failed, and on PostgreSQL its
later snapshots read at the connection's READ COMMITTED. A Connection handed in inside a
transaction is read in it and left in it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.support import REGISTRY

from runactionability import ActionabilityService
from runactionability.adapters.sqlalchemy import (
    REFERENCE_RUNS,
    RunTableMapping,
    StateTableMapping,
    create_schema,
)
from runactionability.adapters.sqlalchemy.declared import mapping_mismatches
from runactionability.config import load_config

pytestmark = pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")
STATE = StateTableMapping(kind="provider_connection", table="provider_connection_states")


def _builders(engine: sa.Engine, tmp_path: Path) -> dict[str, Callable[[sa.Connection], object]]:
    # The reference tables store instants as integer microseconds on SQLite.
    unit = "us" if engine.dialect.name == "sqlite" else None
    config_file = tmp_path / "runactionability.toml"
    stored = f'epoch_unit = "{unit}"\n' if unit else ""
    config_file.write_text(f'[runs]\ntable = "operation_runs"\n{stored}')
    config = load_config(config_file)
    return {
        "RunTableMapping.reflect": lambda c: RunTableMapping.reflect(
            c, "operation_runs", epoch_unit=unit
        ),
        "StateTableMapping.reflect": lambda c: StateTableMapping.reflect(
            c, STATE.kind, STATE.table, epoch_unit=unit
        ),
        "mapping_mismatches": lambda c: mapping_mismatches(c, REFERENCE_RUNS, {STATE.kind: STATE}),
        "Config.run_mapping": config.run_mapping,
        "Config.state_mappings": config.state_mappings,
        "from_config": lambda c: ActionabilityService.from_config(
            config, bind=c, registry=REGISTRY
        ),
    }


def test_a_build_on_an_idle_connection_leaves_it_idle(
    sql_engine: sa.Engine, tmp_path: Path
) -> None:
    create_schema(sql_engine)
    for name, build in _builders(sql_engine, tmp_path).items():
        with sql_engine.connect() as connection:
            build(connection)
            assert not connection.in_transaction(), name
            # The host's own transaction still begins.
            with connection.begin():
                connection.execute(sa.text("SELECT 1"))


def test_a_build_in_a_transaction_reads_in_it_and_leaves_it_open(
    sql_engine: sa.Engine, tmp_path: Path
) -> None:
    create_schema(sql_engine)
    for name, build in _builders(sql_engine, tmp_path).items():
        with sql_engine.connect() as connection:
            transaction = connection.begin()
            build(connection)
            assert connection.get_transaction() is transaction, name
            assert transaction.is_active, name
            transaction.rollback()
