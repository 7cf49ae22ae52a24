"""The reference web host's fixtures: a fresh demo database, the app over it, and a live server.

The demo is the small one (a few hundred runs), generated and loaded once per session; each
module builds its own ``Host`` over it. The live server is uvicorn in a thread on a free port.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from examples.webapp.app import create_app
from examples.webapp.host import build_host

from runactionability.demo import DemoData, Size, generate, load


@pytest.fixture(scope="session")
def demo_data() -> DemoData:
    """The small demo's history (its headline run ids, its instant)."""
    return generate(Size.SMALL)


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory, demo_data: DemoData) -> Path:
    """A fresh SQLite file holding ``demo_data``, made by this test session."""
    path = tmp_path_factory.mktemp("web") / "demo.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        load(engine, demo_data)
    finally:
        engine.dispose()
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_server(demo_database: Path) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 (a thread of this process); yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(build_host(database=str(demo_database))),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="webapp", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the web app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)
