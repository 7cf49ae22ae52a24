"""The reference web host over uuid run ids: a run's URL spelling its uuid in upper case or as 32
hex digits is a 400 naming the spelling to pass, not a 500 (the library refuses the spelling
with a ``UsageError``, which the page let through). The refusal depends on the URL alone: a run
the actor may not see and a run that does not exist are refused alike, as their 404s are."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import sqlalchemy as sa
from examples.webapp.app import create_app
from examples.webapp.host import Actor, Host, build_host
from playwright.sync_api import BrowserContext
from starlette.testclient import TestClient
from tests.support import (
    AS_OF,
    UUID_RUN,
    UUID_RUNS_CONFIG,
    UUID_WORKSPACE,
    database_option,
    uuid_runs,
)

# The table holds runs only: no family's state kind has a table, which the host is told once.
pytestmark = pytest.mark.filterwarnings("ignore::runactionability.MissingStateSourceWarning")

MISSING = "ffffffff-0000-0000-0000-000000000000"
ACTORS = [
    ("ops", Actor("Ops", (UUID_WORKSPACE,))),
    ("other", Actor("Other", ("11111111-0000-0000-0000-000000000000",))),
]


def _host(engine: sa.Engine, folder: Path) -> Host:
    uuid_runs(engine)
    config = folder / "runactionability.toml"
    config.write_text(f"database = {database_option(engine)!r}\n{UUID_RUNS_CONFIG}")
    return build_host(config_path=str(config), as_of=AS_OF, actors=ACTORS)


@pytest.fixture
def client(sql_engine: sa.Engine, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_host(sql_engine, tmp_path))) as opened:
        yield opened


def _misspelled(text: str) -> list[str]:
    return [text.upper(), uuid.UUID(text).hex]


def test_a_run_id_in_another_spelling_is_a_400_naming_the_one_to_pass(client: TestClient) -> None:
    assert client.get(f"/runs/{UUID_RUN}", headers={"X-Actor": "ops"}).status_code == 200
    for spelled in _misspelled(UUID_RUN):
        refused = client.get(f"/runs/{spelled}", headers={"X-Actor": "ops"})
        assert refused.status_code == 400
        assert refused.text.endswith(f"pass {UUID_RUN!r}")
        # Seen or hidden, the refusal is the same: it comes from the URL, before any read.
        hidden = client.get(f"/runs/{spelled}", headers={"X-Actor": "other"})
        assert (hidden.status_code, hidden.text) == (refused.status_code, refused.text)
        missing = client.get(f"/runs/{_misspelled(MISSING)[0]}", headers={"X-Actor": "ops"})
        assert missing.status_code == 400
    # A hidden run and a missing one are still the same 404, and text naming no uuid is no run.
    hidden = client.get(f"/runs/{UUID_RUN}", headers={"X-Actor": "other"})
    for path in (f"/runs/{MISSING}", "/runs/not-a-uuid"):
        missing = client.get(path, headers={"X-Actor": "other"})
        assert (missing.status_code, missing.text) == (hidden.status_code, hidden.text)
    assert hidden.status_code == 404


def test_the_browser_shows_the_refusal_not_a_server_error(
    browser: Callable[[str], BrowserContext],
    serve: Callable[[Host], AbstractContextManager[str]],
    tmp_path: Path,
    screenshots: Path,
) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'uuids.sqlite'}")
    try:
        host = _host(engine, tmp_path)
    finally:
        engine.dispose()
    with serve(host) as url:
        page = browser("en-US").new_page()
        shown = page.goto(f"{url}/runs/{UUID_RUN.upper()}")
        assert shown is not None
        assert shown.status == 400
        assert f"pass {UUID_RUN!r}" in page.inner_text("body")
        page.screenshot(path=screenshots / "uuid-run-id-refused.png", full_page=True)
        assert page.goto(f"{url}/runs/{UUID_RUN}").status == 200  # type: ignore[union-attr]
        assert UUID_RUN in page.inner_text("h1")
