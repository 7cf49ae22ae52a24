"""docs/configuration.md's complete example, run as written over the Laravel-like tables it
describes: each failed run is resolved by its own subject's state, never by another's.

Loading the file (tests/service/test_config.py) proves its keys; only answers over rows prove
its subjects: a baseline snapshot is of a profile (mapped by its own id, a snapshot of profile 9
resolved profile 3's capture), and an environment's evidence snapshot has no subject (mapped
with one, no complete snapshot ever resolved a failed generation).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support import REGISTRY, at

from runactionability import ActionabilityService, VisibleScopes, load_config, to_json
from runactionability.errors import MissingStateSourceWarning

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
DATABASE = 'database = "postgresql+psycopg://app@db.internal/app"'


def documented(schema: str) -> str:
    """The page's first TOML block, its database and schema those of the test's engine."""
    text: str = re.findall(r"```toml\n(.*?)```", DOCS.read_text(), re.S)[0]
    assert DATABASE in text
    assert 'schema = "public"' in text
    return text.replace(DATABASE, "").replace('schema = "public"', f'schema = "{schema}"')


def _tables(engine: sa.Engine) -> dict[str, sa.Table]:
    metadata = sa.MetaData()
    wall = sa.DateTime(timezone=False)
    key = sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False)
    scope = ("workspace_id", "managed_environment_id")
    runs = sa.Table(
        "operation_runs",
        metadata,
        key,
        *(sa.Column(name, sa.BigInteger) for name in scope),
        *(sa.Column(name, sa.Text) for name in ("type", "status", "outcome")),
        sa.Column("context", sa.JSON),
        *(sa.Column(name, wall) for name in ("created_at", "started_at", "completed_at")),
    )
    connections = sa.Table(
        "provider_connections",
        metadata,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        *(sa.Column(name, sa.BigInteger) for name in scope),
        sa.Column("status", sa.Text),
        sa.Column("verified_at", wall),
    )
    snapshots = sa.Table(
        "snapshots",
        metadata,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.Text),
        sa.Column("baseline_profile_id", sa.BigInteger),
        *(sa.Column(name, sa.BigInteger) for name in ("workspace_id", "environment_id")),
        sa.Column("status", sa.Text),
        sa.Column("captured_at", wall),
    )
    metadata.create_all(engine)
    return {"runs": runs, "connections": connections, "snapshots": snapshots}


def _wall(minutes: float) -> datetime:
    return at(minutes).replace(tzinfo=None)


def _history(engine: sa.Engine) -> None:
    tables = _tables(engine)
    scope = {"workspace_id": 1, "managed_environment_id": 10}
    failed: list[tuple[int, str, dict[str, Any]]] = [
        (1, "provider.connection.check", {"provider_connection_id": 5}),
        (2, "provider.connection.check", {"provider_connection_id": 6}),
        (3, "baseline.capture", {"baseline_profile_id": 3}),
        (4, "baseline.capture", {"baseline_profile_id": 9}),
        (5, "evidence.snapshot.generate", {}),
    ]
    with engine.begin() as connection:
        for run_id, type_, context in failed:
            connection.execute(
                tables["runs"].insert().values(
                    id=run_id, type=type_, status="completed", outcome="failed", context=context,
                    created_at=_wall(0), started_at=_wall(0), completed_at=_wall(1), **scope,
                )
            )  # fmt: skip
        connection.execute(
            tables["connections"].insert(),
            [
                {"id": 5, "status": "healthy", "verified_at": _wall(60), **scope},
                {"id": 6, "status": "failing", "verified_at": _wall(60), **scope},
            ],
        )
        in_scope = {"workspace_id": 1, "environment_id": 10, "status": "complete"}
        connection.execute(
            tables["snapshots"].insert(),
            [
                # Snapshot #3 is of profile 9: it resolves profile 9's capture, not profile 3's.
                {"id": 3, "kind": "baseline", "baseline_profile_id": 9, **in_scope},
                {"id": 40, "kind": "evidence", "baseline_profile_id": None, **in_scope},
            ],
        )
        connection.execute(tables["snapshots"].update().values(captured_at=_wall(60)))


def test_the_documented_example_resolves_each_run_by_its_own_subjects_state(
    sql_engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(sql_engine)
    schema = sa.inspect(sql_engine).default_schema_name
    assert schema is not None
    (tmp_path / "copy" / "de" / "LC_MESSAGES").mkdir(parents=True)
    path = tmp_path / "runactionability.toml"
    path.write_text(documented(schema))
    monkeypatch.chdir(tmp_path)
    # The example maps three of the built-in kinds; the others are said to have no source.
    with pytest.warns(MissingStateSourceWarning, match="'backup_set'"):
        service = ActionabilityService.from_config(
            load_config(path),
            bind=sql_engine,
            registry=REGISTRY,
            environ={"RUNACTIONABILITY_CURSOR_KEY": "k" * 32},
        )
    with service.session(scopes=VisibleScopes({1}), as_of=at(120)) as s:
        told = {run_id: to_json(s.explain(run_id))["run"] for run_id in range(1, 6)}
    assert {run_id: run["actionability"] for run_id, run in told.items()} == {
        1: "resolved_by_current_state",
        2: "actionable",
        3: "actionable",
        4: "resolved_by_current_state",
        5: "resolved_by_current_state",
    }
    assert told[1]["proof"]["subject"] == "5"
    assert told[4]["proof"]["subject"] == "9"
    assert told[5]["proof"]["subject"] is None
