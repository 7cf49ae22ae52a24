"""The reference web host over each zoo host's own tables, named in a configuration file: its
pages show what the consumers compute over the memory adapter for the same history."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from examples.webapp.app import create_app
from examples.webapp.host import Actor, build_host
from starlette.testclient import TestClient
from tests.support import AS_OF, CATALOG, REGISTRY, database_option
from tests.zoo.canon import Host, Seeded, canonical_history, seed
from tests.zoo.config import config_text

from runactionability import Resolver
from runactionability.consumers import View, dashboard, list_assessed


@pytest.fixture
def seeded(zoo: tuple[Host, sa.Engine], tmp_path: Path) -> Seeded:
    runs, facts = canonical_history()
    seeded = seed(*zoo, runs, facts)
    config = config_text(seeded.mapped, database_option(seeded.engine))
    (tmp_path / "runactionability.toml").write_text(config)
    return seeded


def test_the_pages_show_what_the_consumers_compute(seeded: Seeded, tmp_path: Path) -> None:
    scopes = seeded.scopes()
    memory = seeded.memory()
    resolver = Resolver(
        history=memory.history, states=memory.states, registry=REGISTRY, catalog=CATALOG
    )
    summary = dashboard(memory.runs, resolver, scopes=scopes, as_of=AS_OF)
    follow_up = list_assessed(
        memory.runs, resolver, scopes=scopes, as_of=AS_OF, view=View.CURRENT_FOLLOW_UP, limit=100
    )
    assert scopes.workspace_ids is not None
    actor = Actor("host operator", tuple(sorted(scopes.workspace_ids)))
    host = build_host(
        config_path=str(tmp_path / "runactionability.toml"),
        as_of=AS_OF,
        actors=[("operator", actor)],
    )
    with TestClient(create_app(host), headers={"X-Actor": "operator"}) as client:
        board = client.get("/")
        assert board.status_code == 200
        shown = re.search(r'id="needs-attention">(\d+)<', board.text)
        assert shown is not None
        assert int(shown.group(1)) == summary.needs_attention > 0
        page = client.get("/runs?view=current_follow_up&limit=100")
        rows = re.findall(r'<tr data-run="([^"]+)">', page.text)
        # As in the CLI's leg: a run whose created_at is unreadable sorts where the database
        # orders the stored value (memory: last); every other run is in the same place.
        expected = [str(item.run.id) for item in follow_up.items]
        assert sorted(rows) == sorted(expected)
        placed = {
            str(run.id)
            for run in seeded.runs
            if isinstance(run.created_at, datetime) and run.created_at.utcoffset() is not None
        }
        assert [r for r in rows if r in placed] == [r for r in expected if r in placed]
        for item in follow_up.items:
            detail = client.get(f"/runs/{item.run.id}")
            assert detail.status_code == 200
            assert f'class="status {item.status.value}"' in detail.text
