"""The reference web host in a real browser: the system Chromium, driven by Playwright.

Each test opens the live server (uvicorn over a fresh small demo) in a Chromium with a new
profile and saves a screenshot of every page it checks (see ``screenshots`` in conftest.py:
``--screenshots DIR``, else ``screenshots/`` under pytest's base temporary directory).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from runactionability.demo import DemoData, Headline

# The statuses as the page names them (the library's English display names).
NEEDS_ATTENTION = {"actionable", "manual review"}

Browser = Callable[[str], BrowserContext]


def _open(browser: Browser, live_server: str, path: str, *, locale: str = "en-US") -> Page:
    page = browser(locale).new_page()
    page.goto(live_server + path)
    return page


def _shoot(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=screenshots / f"{name}.png", full_page=True)


def _attention(page: Page) -> int:
    return int(page.locator("#needs-attention").inner_text())


def _row(page: Page, run_id: object) -> tuple[str, str]:
    """The historical status and the current actionability a list shows for ``run_id``."""
    row = page.locator(f'tr[data-run="{run_id}"]')
    return row.locator("td.history").inner_text(), row.locator("td.status").inner_text()


def test_provider_loop_no_false_call_to_action_and_the_history_keeps_the_run(
    browser: Browser, live_server: str, screenshots: Path, demo_data: DemoData
) -> None:
    blocked = demo_data.headlines[Headline.PROVIDER_LOOP]
    page = _open(browser, live_server, "/")
    expect(page.locator("h1")).to_have_text("Needs attention")
    expect(page.locator(f'#top tr[data-run="{blocked}"]')).to_have_count(0)
    provider = page.locator("#by-family tr", has_text="provider")
    expect(provider).to_have_count(1)
    _shoot(page, screenshots, "provider-loop-dashboard")

    # The old blocker is nowhere on the current follow-up list...
    page.goto(f"{live_server}/runs?view=current_follow_up&limit=100")
    expect(page.locator(f'tr[data-run="{blocked}"]')).to_have_count(0)
    statuses = page.locator("#runs td.status").all_inner_texts()
    assert statuses
    assert set(statuses) <= NEEDS_ATTENTION

    # ...and still in the history, as blocked, now resolved by the connection's current state.
    page.goto(f"{live_server}/runs?view=history&limit=100")
    while page.locator(f'tr[data-run="{blocked}"]').count() == 0:
        page.locator("#next-page").click()
    assert _row(page, blocked) == ("blocked", "resolved")
    page.locator(f'tr[data-run="{blocked}"]').scroll_into_view_if_needed()
    _shoot(page, screenshots, "provider-loop-history")


def test_follow_up_filter_and_keyset_pages(
    browser: Browser, live_server: str, screenshots: Path
) -> None:
    page = _open(browser, live_server, "/runs?limit=5")
    page.locator('a[data-view="current_follow_up"]').click()
    expect(page).to_have_url(re.compile(r"view=current_follow_up"))
    page.goto(f"{live_server}/runs?view=current_follow_up&limit=5")
    first = page.locator("#runs tr[data-run]").evaluate_all(
        "rows => rows.map(row => row.dataset.run)"
    )
    assert len(first) == 5
    assert set(page.locator("#runs td.status").all_inner_texts()) <= NEEDS_ATTENTION
    _shoot(page, screenshots, "follow-up-page-1")

    page.locator("#next-page").click()
    expect(page).to_have_url(re.compile(r"cursor="))
    second = page.locator("#runs tr[data-run]").evaluate_all(
        "rows => rows.map(row => row.dataset.run)"
    )
    assert second
    assert not set(first) & set(second)
    assert set(page.locator("#runs td.status").all_inner_texts()) <= NEEDS_ATTENTION
    assert max(map(int, second)) < min(map(int, first))  # newest first, by creation
    _shoot(page, screenshots, "follow-up-page-2")

    page.locator("#first-page").click()
    expect(page.locator("#runs tr[data-run]").first).to_have_attribute("data-run", first[0])

    page.goto(f"{live_server}/runs?view=history&limit=20")
    history = set(page.locator("#runs td.status").all_inner_texts())
    assert history
    assert not history & NEEDS_ATTENTION
    _shoot(page, screenshots, "history-page-1")


def test_run_detail_shows_history_and_current_actionability_apart(
    browser: Browser, live_server: str, screenshots: Path, demo_data: DemoData
) -> None:
    page = _open(browser, live_server, "/")
    top = page.locator("#top tr[data-run]").first
    top_id = top.get_attribute("data-run")
    action = top.locator("a.action")
    expect(action).to_have_count(1)
    top.locator("td a").first.click()
    expect(page).to_have_url(f"{live_server}/runs/{top_id}")
    expect(page.locator("#current .status")).to_have_text(re.compile("actionable|manual review"))
    expect(page.locator("#explanation")).not_to_be_empty()
    expect(page.locator("#action .action")).to_have_count(1)
    _shoot(page, screenshots, "detail-needs-attention")

    blocked = demo_data.headlines[Headline.PROVIDER_LOOP]
    page.goto(f"{live_server}/runs/{blocked}")
    expect(page.locator("#history .history")).to_have_text("blocked")
    expect(page.locator("#current .status")).to_have_text("resolved")
    expect(page.locator("#proof")).to_contain_text("provider_connection 7 (acme/prod) healthy")
    # Its one action now points at the proof, not at a retry.
    expect(page.locator("#action .action")).to_have_text("View the current provider connection")
    _shoot(page, screenshots, "detail-provider-loop")


def test_scope_switch_shows_other_counts_and_hides_other_runs(
    browser: Browser, live_server: str, screenshots: Path, demo_data: DemoData
) -> None:
    acme_run = demo_data.headlines[Headline.PROVIDER_LOOP]
    page = _open(browser, live_server, "/")
    everyone = _attention(page)
    page.goto(f"{live_server}/runs/{acme_run}")
    expect(page.locator("h1")).to_contain_text(f"Run {acme_run}")

    page.locator("a", has_text="Switch actor").click()
    page.locator('input[value="greta"]').check()
    _shoot(page, screenshots, "login-stub")
    page.locator('button[type="submit"]').click()
    expect(page.locator("#actor")).to_have_text("Greta (Globex)")
    assert _attention(page) < everyone
    scopes = page.locator("#by-environment td:first-child").all_inner_texts()
    assert scopes
    assert all(scope.split("/")[0] == "globex" for scope in scopes)
    _shoot(page, screenshots, "scope-greta-dashboard")

    hidden = page.goto(f"{live_server}/runs/{acme_run}")
    assert hidden is not None
    assert hidden.status == 404
    hidden_body = hidden.text()
    hidden_text = page.locator("main").inner_text()
    _shoot(page, screenshots, "scope-hidden-run-404")
    missing = page.goto(f"{live_server}/runs/999999")
    assert missing is not None
    assert missing.status == 404
    assert page.locator("main").inner_text() == hidden_text
    assert missing.text() == hidden_body


def test_german_page_chrome(browser: Browser, live_server: str, screenshots: Path) -> None:
    page = _open(browser, live_server, "/", locale="de-DE")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("h1")).to_have_text("Handlungsbedarf")
    expect(page.locator("nav")).to_contain_text("Vorgänge")
    # The library's own words follow the page: statuses and explanations come in German.
    statuses = set(page.locator("#top td.status").all_inner_texts())
    assert statuses
    assert statuses <= {"Handlungsbedarf", "manuelle Prüfung"}
    german = page.locator("#top td.explanation").all_inner_texts()
    expect(page.locator("#by-family")).to_contain_text("Provider-Verbindungen")
    _shoot(page, screenshots, "german-dashboard")
    english = _open(browser, live_server, "/", locale="en-US")
    assert len(english.locator("#top td.explanation").all_inner_texts()) == len(german)
    assert not set(english.locator("#top td.explanation").all_inner_texts()) & set(german)
    page.locator("nav a", has_text="Vorgänge").click()
    expect(page.locator('a[data-view="history"]')).to_have_text("Verlauf")
    expect(page.locator("#runs th").nth(4)).to_have_text("Historischer Status")
    _shoot(page, screenshots, "german-operations")
    page.get_by_role("link", name="en", exact=True).click()
    expect(page.locator("h1")).to_have_text("Operations")
