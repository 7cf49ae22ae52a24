"""The reference web host's pages without a browser: what they show, whom they show it to, and
how many statements each costs (Starlette's test client over the app, on the small demo)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
from examples.webapp.app import create_app
from examples.webapp.host import Host, build_host
from starlette.testclient import TestClient

from runactionability import (
    ActionabilityService,
    ConfigurationError,
    EveryWorkspace,
    VisibleScopes,
)
from runactionability.demo import AS_OF, DemoData, Headline
from runactionability.testing import count_statements

PROVIDER_LOOP = Headline.PROVIDER_LOOP
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def host(demo_database: Path) -> Host:
    return build_host(database=str(demo_database))


@pytest.fixture(scope="module")
def client(host: Host) -> Iterator[TestClient]:
    with TestClient(create_app(host)) as client:
        yield client


def _attention(html: str) -> int:
    found = re.search(r'id="needs-attention">(\d+)<', html)
    assert found is not None, html
    return int(found.group(1))


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-run="([^"]+)">', html)


def _next(url: str, html: str) -> str | None:
    found = re.search(r'id="next-page" href="([^"]+)"', html)
    return None if found is None else urljoin(url, found.group(1).replace("&amp;", "&"))


def _every_page(client: TestClient, url: str, **headers: str) -> list[str]:
    seen: list[str] = []
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url, headers=headers)
        assert response.status_code == 200
        seen += _rows(response.text)
        next_url = _next(next_url, response.text)
    return seen


def _service(path: Path) -> ActionabilityService:
    return ActionabilityService(f"sqlite:///{path}")


def _session_attention(path: Path, scopes: VisibleScopes | EveryWorkspace) -> int:
    service = _service(path)
    try:
        with service.session(scopes=scopes, as_of=AS_OF) as session:
            return session.dashboard().needs_attention
    finally:
        service.close()


def test_the_dashboard_counts_what_the_library_counts_for_the_actor(
    client: TestClient, demo_database: Path
) -> None:
    everyone = client.get("/")
    greta = client.get("/", headers={"X-Actor": "greta"})
    assert everyone.status_code == greta.status_code == 200
    assert _attention(everyone.text) == _session_attention(demo_database, EveryWorkspace())
    assert _attention(greta.text) == _session_attention(demo_database, VisibleScopes(["globex"]))
    assert _attention(greta.text) < _attention(everyone.text)
    assert "Greta (Globex)" in greta.text


def test_the_provider_loop_is_history_not_follow_up(
    client: TestClient, demo_data: DemoData
) -> None:
    run_id = str(demo_data.headlines[PROVIDER_LOOP])
    assert run_id not in _rows(client.get("/").text)
    assert run_id not in _every_page(client, "/runs?view=current_follow_up&limit=50")
    assert run_id in _every_page(client, "/runs?view=history&limit=100")
    detail = client.get(f"/runs/{run_id}").text
    assert re.search(r'class="history">blocked<', detail)
    assert re.search(r'class="status resolved_by_current_state"', detail)
    assert "provider_connection 7 (acme/prod) healthy" in detail


def test_follow_up_pages_are_the_sessions_pages_without_gaps_or_repeats(
    client: TestClient, demo_database: Path
) -> None:
    shown = _every_page(client, "/runs?view=current_follow_up&limit=7")
    service = _service(demo_database)
    expected: list[str] = []
    with service.session(scopes=EveryWorkspace(), as_of=AS_OF) as session:
        cursor = None
        while True:
            page = session.follow_up_page(limit=7, cursor=cursor)
            expected += [str(item.run.id) for item in page.items]
            if (cursor := page.next_cursor) is None:
                break
    service.close()
    assert shown == expected
    assert len(shown) == len(set(shown)) > 7


def test_a_hidden_run_is_the_same_404_as_a_missing_one(
    client: TestClient, demo_data: DemoData
) -> None:
    acme_run = str(demo_data.headlines[PROVIDER_LOOP])
    assert client.get(f"/runs/{acme_run}").status_code == 200
    hidden = client.get(f"/runs/{acme_run}", headers={"X-Actor": "greta"})
    missing = client.get("/runs/999999", headers={"X-Actor": "greta"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text == missing.text
    assert hidden.headers["content-type"] == missing.headers["content-type"]
    assert acme_run not in _every_page(client, "/runs?limit=100", **{"X-Actor": "greta"})
    assert "acme" not in client.get("/", headers={"X-Actor": "greta"}).text


def test_the_login_stub_switches_the_actor(demo_database: Path) -> None:
    with TestClient(create_app(build_host(database=str(demo_database)))) as fresh:
        before = _attention(fresh.get("/").text)
        assert fresh.post("/login", data={"actor": "greta"}).status_code == 200  # redirected
        after = fresh.get("/")
        assert "Greta (Globex)" in after.text
        assert _attention(after.text) == _session_attention(
            demo_database, VisibleScopes(["globex"])
        )
        assert _attention(after.text) != before
        assert fresh.post("/login", data={"actor": "mallory"}).status_code == 400


def test_german_chrome_from_accept_language_or_the_lang_parameter(
    client: TestClient, demo_database: Path, demo_data: DemoData
) -> None:
    german = client.get("/", headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in german.text
    assert "<h1>Handlungsbedarf</h1>" in german.text
    english = client.get("/", headers={"Accept-Language": "fr,en;q=0.5"})
    assert '<html lang="en">' in english.text
    assert "<h1>Needs attention</h1>" in english.text
    with TestClient(create_app(build_host(database=str(demo_database)))) as chooser:
        assert "Vorgänge" in chooser.get("/runs?lang=de").text
        assert "Vorgänge" in chooser.get("/runs").text  # the choice is remembered
        assert "<h1>Operations</h1>" in chooser.get("/runs?lang=en").text


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        ("/runs?cursor=not-a-cursor", {}, 400),
        ("/runs?view=everything", {}, 400),
        ("/runs?limit=many", {}, 400),
        ("/", {"X-Actor": "mallory"}, 403),
        ("/nowhere", {"X-Actor": "mallory"}, 403),
        ("/", {"Cookie": "actor=mallory"}, 403),
        ("/nowhere", {}, 404),
    ],
)
def test_a_bad_request_is_refused_with_its_status(
    client: TestClient, url: str, headers: dict[str, str], status: int
) -> None:
    assert client.get(url, headers=headers).status_code == status


def _statements(client: TestClient, host: Host, url: str) -> int:
    # The host test kit's counter, as a host would use it (it takes the AsyncEngine itself).
    with count_statements(host.service.engine) as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_no_page_issues_a_statement_per_run(
    client: TestClient, host: Host, demo_data: DemoData
) -> None:
    # Evidence is read once per kind (per scanned batch), never per run: a page of 100 runs
    # costs about what a page of 5 does (the counts differ only by which evidence kinds the
    # page's runs need), and far fewer statements than it shows runs.
    for view in ("all", "current_follow_up", "history"):
        for limit in (5, 100):
            assert _statements(client, host, f"/runs?view={view}&limit={limit}") <= 10, view
    assert len(_rows(client.get("/runs?limit=100").text)) == 100
    assert _statements(client, host, "/") <= 10
    assert _statements(client, host, f"/runs/{demo_data.headlines[PROVIDER_LOOP]}") <= 10


def test_the_host_refuses_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="make demo"):
        build_host(database=str(tmp_path / "nowhere.sqlite"))


def test_a_configured_cursor_key_signs_every_page_link(
    demo_database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed = tmp_path / "runactionability.toml"
    signed.write_text(f'database = "{demo_database}"\ncursor_key_env = "WEB_CURSOR_KEY"\n')
    with pytest.raises(ConfigurationError, match="WEB_CURSOR_KEY, which is not set"):
        build_host(config_path=str(signed))
    monkeypatch.setenv("WEB_CURSOR_KEY", "a host secret of 32 bytes or so")
    with TestClient(create_app(build_host(config_path=str(signed)))) as app:
        first = app.get("/runs?limit=5")
        next_url = _next("http://testserver/runs?limit=5", first.text)
        assert next_url is not None
        cursor = next_url.split("cursor=")[1].split("&")[0]
        assert "." in cursor, "a signed cursor carries its signature after a dot"
        assert _rows(app.get(next_url).text) != _rows(first.text)
        # The same position unsigned, or signed with another key, is refused.
        unsigned = build_host(database=str(demo_database))
        with TestClient(create_app(unsigned)) as other:
            other_next = _next("http://testserver/runs?limit=5", other.get("/runs?limit=5").text)
        assert other_next is not None
        assert app.get(other_next).status_code == 400
        forged = next_url.replace(cursor, cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB"))
        assert app.get(forged).status_code == 400


def test_the_command_line_names_its_options_and_its_refusals(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "examples.webapp"]
    shown = subprocess.run([*command, "--help"], cwd=ROOT, capture_output=True, text=True)
    assert shown.returncode == 0
    for option in ("--config", "--database", "--actor", "--port", "--as-of"):
        assert option in shown.stdout
    missing = tmp_path / "nowhere.sqlite"
    refused = subprocess.run(
        [*command, "--database", str(missing)], cwd=ROOT, capture_output=True, text=True
    )
    assert refused.returncode == 1
    assert (
        refused.stderr.strip() == f"webapp: no database at {str(missing)!r}; run `make demo` first"
    )


def test_a_login_body_that_is_not_utf8_is_refused_not_a_crash(client: TestClient) -> None:
    refused = client.post(
        "/login", content=b"actor=\xff\xfe", headers={"content-type": "text/plain"}
    )
    assert refused.status_code == 400
