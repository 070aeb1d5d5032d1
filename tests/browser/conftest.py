"""Browser fixtures: Debian's Chromium driven by Playwright (its own driver from PyPI; no browser
download), against the session's real stack. ``make test`` installs Chromium first
(``scripts/bootstrap.sh --browser``); ``SB_CHROMIUM`` points elsewhere.

Every page a test opens fails the test on a JavaScript error (``pageerror``), a console error or a 5xx answer,
and tests write screenshots to ``screenshots/`` (git-ignored; ``SB_SCREENSHOTS`` elsewhere)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from switchboard_devstack.stack import REPO, Stack

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # root in CI's container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the machine's network is closed: no calls home
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("SB_SCREENSHOTS", REPO / "screenshots"))


def chromium_path() -> str:
    path = os.environ.get("SB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is not installed: run `scripts/bootstrap.sh --browser` (make test does)")
    return path


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


class Console:
    """A logged-in console tab: ``page``, ``base`` (the api's URL), ``errors`` seen so far."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", self._console)
        page.on("response", lambda r: self.errors.append(f"{r.status} from {r.url}") if r.status >= 500 else None)

    def _console(self, msg: ConsoleMessage) -> None:
        # a 4xx the page expects (a call with no CDR yet) is logged by Chromium as a failed load;
        # the page's own handling of it is what the tests check, and a 5xx is caught above
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.errors.append(f"console error: {msg.text}")

    async def open(self, path: str) -> Page:
        await self.page.goto(f"{self.base}/console/{path}")
        return self.page

    async def shot(self, name: str, *, full_page: bool = False) -> Path:
        await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=path, full_page=full_page)
        return path


async def log_in(page: Page, base: str, key: str, path: str = "live") -> None:
    await page.goto(f"{base}/console/{path}")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(f"**/console/{path}")


@pytest.fixture
async def console(browser: Browser, stack: Stack) -> AsyncIterator[Console]:
    context = await browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = await context.new_page()
    tab = Console(page, stack.config.api_url)
    await log_in(page, tab.base, stack.api_key())
    try:
        yield tab
    finally:
        await context.close()
    assert not tab.errors, tab.errors
