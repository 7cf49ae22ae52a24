"""The reference web host's fixtures: a fresh demo database, the app over it, and a live server.

The demo is the small one (a few hundred runs), generated and loaded once per session; each
module builds its own ``Host`` over it. The live server is uvicorn in a thread on a free port.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from examples.webapp.app import create_app
from examples.webapp.host import Host, build_host
from playwright.sync_api import BrowserContext, Playwright, sync_playwright

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


@contextmanager
def serving(host: Host) -> Iterator[str]:
    """The app over ``host`` served by uvicorn on 127.0.0.1 (a thread of this process); yields
    its base URL."""
    port = _free_port()
    config = uvicorn.Config(create_app(host), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="webapp", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the web app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def serve() -> Callable[[Host], AbstractContextManager[str]]:
    """``serving``, for a module that serves a host of its own."""
    return serving


@pytest.fixture(scope="session")
def live_server(demo_database: Path) -> Iterator[str]:
    """The app over the demo database, served for the whole session; yields its base URL."""
    with serving(build_host(database=str(demo_database))) as url:
        yield url


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The system Chromium; without it CI fails (it must install it), a developer skips."""
    if not CHROMIUM.is_file():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def screenshots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each page's screenshot goes: ``--screenshots DIR``, else under pytest's temp base."""
    chosen = request.config.getoption("--screenshots")
    folder = Path(chosen) if chosen else tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    # Module-scoped: Playwright's sync API keeps an event loop running in this thread while it
    # lives, and any later test calling asyncio.run() would find it there and fail.
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(
    playwright_driver: Playwright, chromium: Path, tmp_path: Path
) -> Iterator[Callable[[str], BrowserContext]]:
    """Opens a Chromium with a new profile whose language is ``locale`` (e.g. ``"en-US"``: the
    browser's Accept-Language); each is closed when the test ends."""
    opened: list[BrowserContext] = []

    def launch(locale: str) -> BrowserContext:
        context = playwright_driver.chromium.launch_persistent_context(
            user_data_dir=tmp_path / f"profile-{len(opened)}",
            executable_path=chromium,
            args=CHROMIUM_FLAGS,
            headless=True,
            locale=locale,
        )
        opened.append(context)
        return context

    yield launch
    for context in opened:
        context.close()
