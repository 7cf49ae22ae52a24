"""Issue 14, part 4 on the web host: "Changed since your last visit" on the dashboard.

The host here reads a database with no demo marker, so each request is evaluated now: runs the
test records between two visits are changes on the second. The last visit is a signed cookie; a
forged one reads as a first visit, never as an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa
from examples.webapp.app import create_app
from examples.webapp.host import Host, build_host
from examples.webapp.visits import VISIT_COOKIE, write_visit
from playwright.sync_api import BrowserContext, Page, expect
from starlette.testclient import TestClient

from runactionability import OperationRun
from runactionability.adapters.sqlalchemy import create_schema, insert_runs

Browser = Callable[[str], BrowserContext]


def _check(run_id: int, workspace: str, outcome: str, subject: str, ago: timedelta) -> OperationRun:
    at = datetime.now(UTC) - ago
    return OperationRun(
        id=run_id,
        type="provider.connection.check",
        workspace_id=workspace,
        environment_id="prod",
        status="completed",
        outcome=outcome,
        created_at=at,
        started_at=at,
        completed_at=at,
        context={"provider_connection_id": subject},
    )


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """A database with a run a day old in acme and in globex, and no demo marker."""
    path = tmp_path_factory.mktemp("changes-panel") / "host.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    create_schema(engine)
    day = timedelta(days=1)
    insert_runs(
        engine, [_check(1, "acme", "failed", "c1", day), _check(2, "globex", "failed", "g1", day)]
    )
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def host(database: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Host:
    # No margin: a run recorded in the test is a change of the very next visit. The margin's own
    # test below reads with one.
    config = tmp_path_factory.mktemp("no-margin") / "runactionability.toml"
    config.write_text("change_margin_seconds = 0\n")
    built = build_host(database=str(database.url.database), config_path=str(config))
    assert built.as_of is None, "without a demo marker every request is evaluated now"
    return built


@pytest.fixture(scope="module")
def server(host: Host, serve: Callable[[Host], AbstractContextManager[str]]) -> Iterator[str]:
    with serve(host) as url:
        yield url


_ids = iter(range(1000, 2000))


def _record(database: sa.Engine, workspace: str, outcome: str, subject: str) -> int:
    run_id = next(_ids)
    insert_runs(database, [_check(run_id, workspace, outcome, subject, timedelta(0))])
    return run_id


def _panel(page: Page) -> dict[str, tuple[str, str, str]]:
    """Each change the panel lists: run id -> (before, now, cause)."""
    rows = page.locator("#changes tr[data-run]")
    return {
        row.get_attribute("data-run") or "": (
            row.locator("td.before").inner_text(),
            row.locator("td.status").inner_text(),
            row.locator("td.cause").inner_text(),
        )
        for row in rows.all()
    }


def test_a_failure_and_a_success_between_two_visits_are_the_changes_of_the_second(
    browser: Browser, server: str, database: sa.Engine, screenshots: Path
) -> None:
    page = browser("en-US").new_page()
    page.goto(server + "/")
    expect(page.locator("#changes h2")).to_have_text("Changed since your last visit")
    expect(page.locator("#changes .first-visit")).to_be_visible()
    failed = _record(database, "acme", "failed", "c7")
    succeeded = _record(database, "globex", "succeeded", "g1")
    page.reload()
    assert _panel(page) == {
        str(failed): ("(new)", "actionable", "run completed"),
        str(succeeded): ("(new)", "informational", "run completed"),
        # The success is a later success of the day-old failure's check: it is settled now.
        "2": ("actionable", "superseded", "later success"),
    }
    page.screenshot(path=screenshots / "changes-panel.png", full_page=True)
    # The visit moved the marker: the next one starts where this one ended.
    page.reload()
    expect(page.locator("#changes .no-changes")).to_have_text(
        "Nothing changed since your last visit."
    )


def test_a_german_page_shows_the_changes_in_german(
    browser: Browser, server: str, database: sa.Engine
) -> None:
    page = browser("de-DE").new_page()
    page.goto(server + "/")
    expect(page.locator("#changes h2")).to_have_text("Geändert seit Ihrem letzten Besuch")
    failed = _record(database, "acme", "blocked", "c8")
    page.reload()
    before, now, cause = _panel(page)[str(failed)]
    assert (before, cause) == ("(neu)", "Lauf abgeschlossen")
    assert now == page.locator(f'#top tr[data-run="{failed}"] td.status').inner_text()
    assert now != "actionable"


@pytest.fixture
def client(host: Host) -> Iterator[TestClient]:
    with TestClient(create_app(host)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        "a.b.c",
        write_visit(datetime.now(UTC) - timedelta(days=2), b"another host's key, not ours"),
        "MjAyNi0xMS0yMA." + "A" * 43,
        "",
    ],
    # Named, not shown: the foreign cookie holds the clock, and a test id that changes between
    # two collections breaks plain pytest's agreement with python -m pytest (test_collection).
    ids=["garbage", "dots", "foreign-key", "forged-mac", "empty"],
)
def test_a_forged_or_foreign_cookie_is_a_first_visit(
    client: TestClient, host: Host, cookie: str
) -> None:
    client.cookies.set(VISIT_COOKIE, cookie)
    response = client.get("/")
    assert response.status_code == 200
    assert 'class="first-visit"' in response.text
    # ...and the visit is remembered with this host's signature from now on.
    client.cookies.set(VISIT_COOKIE, response.cookies[VISIT_COOKIE])
    assert 'class="no-changes"' in client.get("/").text


def test_an_actor_sees_no_change_outside_its_workspaces(
    client: TestClient, host: Host, database: sa.Engine
) -> None:
    headers = {"x-actor": "alex"}  # Alex sees acme only
    client.cookies.set(VISIT_COOKIE, write_visit(datetime.now(UTC), host.visit_key))
    hidden = _record(database, "globex", "failed", "g9")
    seen = _record(database, "acme", "failed", "c9")
    page = client.get("/", headers=headers).text
    assert f'data-run="{seen}"' in page
    assert f'data-run="{hidden}"' not in page


def _visit(host: Host, as_of: datetime, cookie: str | None) -> tuple[str, str]:
    """The changes panel of a host's dashboard evaluated at ``as_of``, and the cookie it sets."""
    with TestClient(create_app(attrs.evolve(host, as_of=as_of))) as client:
        if cookie is not None:
            client.cookies.set(VISIT_COOKIE, cookie)
        response = client.get("/")
    assert response.status_code == 200
    panel = response.text.split('<section id="changes">', 1)[1].split("</section>", 1)[0]
    return panel, response.cookies[VISIT_COOKIE]


def test_a_run_committed_after_a_visit_but_stamped_before_it_is_listed_on_the_next(
    database: sa.Engine,
) -> None:
    host = build_host(database=str(database.url.database))
    assert host.service.sync.change_margin == timedelta(seconds=60)
    first = datetime.now(UTC) + timedelta(hours=1)
    _, cookie = _visit(host, first, None)
    # Its transaction began before the first visit and committed after it.
    late = _check(next(_ids), "acme", "failed", "c-late", datetime.now(UTC) - first)
    late = attrs.evolve(late, created_at=first - timedelta(seconds=2))
    insert_runs(database, [late])
    page, cookie = _visit(host, first + timedelta(seconds=30), cookie)
    assert f'data-run="{late.id}"' not in page, "within the margin, the next visit lists it"
    page, _ = _visit(host, first + timedelta(seconds=90), cookie)
    assert f'data-run="{late.id}"' in page


def test_a_visit_after_weeks_shows_the_last_seven_days_and_says_so(
    database: sa.Engine, host: Host
) -> None:
    now = datetime.now(UTC)
    old = _record_at(database, now - timedelta(days=20))
    recent = _record_at(database, now - timedelta(days=2))
    cookie = write_visit(now - timedelta(days=30), host.visit_key)
    page, _ = _visit(host, now, cookie)
    assert f'data-run="{recent}"' in page
    assert f'data-run="{old}"' not in page
    assert (
        "Your last visit was more than 7 days ago: these are the changes of the last 7 days."
        in page
    )
    cookie = write_visit(now - timedelta(days=3), host.visit_key)
    page, _ = _visit(host, now, cookie)
    assert "more than 7 days ago" not in page


def _record_at(database: sa.Engine, at: datetime) -> int:
    run_id = next(_ids)
    insert_runs(
        database, [_check(run_id, "initech", "failed", f"i{run_id}", datetime.now(UTC) - at)]
    )
    return run_id
