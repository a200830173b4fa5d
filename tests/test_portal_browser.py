"""A real browser (Debian's chromium, driven by Playwright) on our admin page (/portal/, static files served by
the API, no CDN), which calls the old API's routes the way the seed's portal does: an ETL run with and
without options, Stop, schema generation with status polling, a load into the database in each mode, and the
history. It ends with a screenshot that must not be blank.

Skips (with the reason) only outside CI when chromium or Playwright is missing; under CI=true it must run:
.ci/run installs chromium with apt."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest
import requests

from etl.catalog import TABLES
from handlers.upload import mode_tables
from seed_server import SeedServer, running_up

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser_page():
    reason = _missing()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 1000})
        finally:
            browser.close()


@pytest.fixture(scope="module")
def server() -> Iterator[SeedServer]:
    with running_up(prefix="benchsight-portal-") as server:
        yield server


def wait_text(page, selector: str, values: tuple[str, ...], timeout_ms: int = 120_000) -> str:
    page.wait_for_function(
        "([sel, values]) => values.includes(document.querySelector(sel).textContent.trim())",
        arg=[selector, list(values)], timeout=timeout_ms)
    return page.locator(selector).text_content().strip()


def page_errors(page) -> list[str]:
    return page.locator("#log li.error").all_text_contents()


def test_portal_page_drives_the_old_api_routes_in_a_real_browser(server, browser_page, tmp_path):
    page = browser_page
    console: list[str] = []
    failed: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(server.url("/portal/index.html?poll=200"))
    page.wait_for_function("document.querySelector('#health').textContent.startsWith('healthy')")

    # ETL with the portal's options (clean, validate), polled to the end
    page.select_option("#etl-mode", "full")
    page.click("#etl-run")
    assert wait_text(page, "#etl-badge", ("completed", "failed", "cancelled", "error")) == "completed", page_errors(page)
    assert page.locator("#etl-tables").text_content() == str(len(TABLES))

    # ETL without any options
    page.check("#etl-no-options")
    page.click("#etl-run")
    assert wait_text(page, "#etl-badge", ("completed", "failed", "cancelled", "error")) == "completed", page_errors(page)
    page.uncheck("#etl-no-options")

    # Stop: a run queued behind another warehouse job is cancelled at once
    busy = requests.post(server.url("/api/etl/trigger"), json={"mode": "full", "options": {"wipe": True, "n": 1}})
    assert busy.status_code == 202
    page.check("#etl-sync")
    page.click("#etl-run")
    page.wait_for_function("!document.querySelector('#etl-stop').disabled")
    page.click("#etl-stop")
    assert wait_text(page, "#etl-badge", ("completed", "failed", "cancelled", "error")) == "cancelled"
    assert any("cancelled" in line for line in page_errors(page))
    page.uncheck("#etl-sync")

    # schema generation, polled on /api/upload/status
    page.click("#schema-run")
    assert wait_text(page, "#schema-badge", ("completed", "failed", "cancelled")) == "completed"
    assert page.locator("#schema-tables").text_content() == str(len(TABLES))

    # a load into the database in each mode
    for mode in ("all", "dims", "facts", "qa", "basic", "tracking"):
        page.select_option("#sync-mode", mode)
        page.click("#sync-run")
        expected = mode_tables(mode)
        final = wait_text(page, "#sync-badge", ("completed", "failed", "cancelled"))
        assert final == ("completed" if expected else "failed"), (mode, page_errors(page))
        if expected:
            assert page.locator("#sync-tables-done").text_content() == str(len(expected))

    # history: a plain list of the jobs above, the older page behind the Link header
    page.click("#history-load")
    page.wait_for_function("document.querySelectorAll('#history-rows tr').length === 10")
    assert not page.locator("#history-more").is_disabled()
    page.click("#history-more")
    page.wait_for_function("document.querySelectorAll('#history-rows tr').length > 10")
    statuses = set(page.locator("#history-rows tr").evaluate_all("rows => rows.map(r => r.dataset.status)"))
    assert "completed" in statuses

    assert "[object Object]" not in page.locator("body").text_content()
    assert not failed and not console, (failed, console)
    shot = page.screenshot(full_page=True)
    (tmp_path / "portal.png").write_bytes(shot)
    assert distinct_colours(page, shot) > 20, "the screenshot is blank"


def distinct_colours(page, png: bytes) -> int:
    """Decode the PNG in the browser itself (no image library here) and count its distinct colours."""
    return page.evaluate("""async (data) => {
        const img = new Image();
        img.src = 'data:image/png;base64,' + data;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.width; canvas.height = img.height;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const pixels = ctx.getImageData(0, 0, img.width, img.height).data;
        const seen = new Set();
        for (let i = 0; i < pixels.length; i += 4 * 7) seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
        return seen.size;
    }""", base64.b64encode(png).decode())
