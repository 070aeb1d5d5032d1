"""The README's console screenshots (docs/console/*.png), taken from a running local stack
(`make up`): a campaign of survey calls is started so the pages have something to show.

    uv run --with pillow python scripts/console_screenshots.py

Pillow (only for this script) cuts each PNG to 64 colours so the committed files stay small.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from pathlib import Path

import httpx
from PIL import Image
from playwright.async_api import async_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path, log_in  # noqa: E402

API = "http://127.0.0.1:8084"
OUT = REPO / "docs" / "console"


def number() -> str:
    return "+25470" + "".join(secrets.choice("0123456789") for _ in range(7))


async def main() -> None:
    key = json.loads((REPO / ".stack" / "api-key.json").read_text())["key"]
    async with httpx.AsyncClient(base_url=API, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
        spec = {"name": "October satisfaction survey", "flow": "survey", "policy": {"cps": 2, "max_concurrent": 20}}
        campaign = (await api.post("/v1/campaigns", json=spec)).json()
        contacts = [{"phone": number(), "firstName": f"Caller {i}"} for i in range(120)]
        await api.post(f"/v1/campaigns/{campaign['campaign_id']}/contacts", json=contacts)
        await api.post(f"/v1/campaigns/{campaign['campaign_id']}/start")
    OUT.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 760})
        await log_in(page, API, key)
        await asyncio.sleep(20)  # calls in progress and some done

        async def shot(path: str, name: str, wait: float = 2.5) -> None:
            await page.goto(f"{API}/console/{path}")
            await asyncio.sleep(wait)
            await page.screenshot(path=OUT / f"{name}.png")

        await shot("live", "live")
        await shot("campaigns", "campaigns")
        await shot("calls", "calls")
        await page.get_by_label("Status").select_option("completed")
        await page.get_by_role("button", name="Apply filters").click()
        await asyncio.sleep(1.5)
        first = page.locator("#cdrs tbody tr a", has_text="Trace").first
        await first.click()
        await asyncio.sleep(2)
        await page.screenshot(path=OUT / "call-trace.png")
        await shot("reports?flow=survey", "reports", 3)
        await page.evaluate("document.getElementById('funnel-h').scrollIntoView()")
        await page.screenshot(path=OUT / "funnel.png")
        await shot("flows", "flows", 1.5)
        await page.goto(f"{API}/console/flows/survey")
        await asyncio.sleep(1.5)
        await page.get_by_role("button", name="Call this flow").click()
        await page.get_by_role("list", name="What the call said").get_by_text("how satisfied").wait_for(timeout=20_000)
        await page.screenshot(path=OUT / "flow.png")
        await page.get_by_role("button", name="Key 5").click()
        await browser.close()
    for png in OUT.glob("*.png"):
        Image.open(png).convert("RGB").quantize(colors=64).save(png, optimize=True)
        print(png.relative_to(REPO), png.stat().st_size // 1024, "KiB")


if __name__ == "__main__":
    asyncio.run(main())
