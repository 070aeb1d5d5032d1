"""The supervisor console in a real Chromium against the real stack: log in, the live page, a
campaign from a CSV, a call's trace, the CSV export, reports and funnel, the flow editor and a
flow walked with the keypad; every page labelled and reachable by keyboard."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from switchboard_devstack.stack import Stack
from switchboard_devstack.testing import wait_for

from .conftest import SCREENSHOTS, Console, log_in

PAGES = ["live", "campaigns", "calls", "reports", "flows", "flows/survey"]


def console_number() -> str:
    return "+25470" + "".join(secrets.choice("0123456789") for _ in range(7))


async def interactive_call(api: httpx.AsyncClient, stack: Stack, flow: str = "survey") -> tuple[str, str]:
    """A call to a fresh interactive phone on the simulator (it waits for keys): (number, call id)."""
    number = console_number()
    async with httpx.AsyncClient(base_url=stack.config.sim_url, timeout=10) as sim:
        (await sim.put(f"/sim/phones/{number}", json={"answer": "answer", "interactive": True})).raise_for_status()
    r = await api.post("/v1/calls", json={"to": number, "flow": flow})
    assert r.status_code in (200, 201, 202), r.text
    return number, r.json()["call_id"]


async def sim_post(stack: Stack, path: str, body: dict[str, Any] | None = None) -> None:
    async with httpx.AsyncClient(base_url=stack.config.sim_url, timeout=10) as sim:
        (await sim.post(path, json=body)).raise_for_status()


@pytest.fixture(scope="module")
async def survey_calls(stack: Stack) -> list[str]:
    """Two finished survey calls (keys 4 and 2) with their CDRs: what the reports and traces read."""
    headers = {"Authorization": f"Bearer {stack.api_key()}"}
    ids = []
    async with httpx.AsyncClient(base_url=stack.config.api_url, headers=headers, timeout=30) as api:
        for key in ("4", "2"):
            number, call_id = await interactive_call(api, stack)
            await sim_post(stack, f"/sim/phones/{number}/keys", {"digits": key})
            ids.append(call_id)

        async def landed() -> bool:
            return all([(await api.get(f"/v1/calls/{i}")).status_code == 200 for i in ids])

        await wait_for(landed, 60)
    return ids


async def test_login_refuses_a_wrong_key_and_logs_out(browser, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(f"{stack.config.api_url}/console/calls")
        assert "/console/login" in page.url  # not logged in: the login form, then back to the page asked for
        await page.get_by_label("API key").fill("sb_0000000000000000_" + "x" * 43)
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("alert")).to_have_text("That key was not accepted.")
        await page.screenshot(path=SCREENSHOTS / "login.png")
        await log_in(page, stack.config.api_url, stack.api_key(), "calls")
        await expect(page.get_by_role("heading", name="Calls", exact=True)).to_be_visible()
        await page.get_by_role("button", name="Log out").click()
        await page.wait_for_url("**/console/login")
        await page.goto(f"{stack.config.api_url}/console/live")
        assert "/console/login" in page.url  # the session is gone
    finally:
        await context.close()


async def test_live_page_shows_a_call_appear_and_end(console: Console, api: httpx.AsyncClient, stack: Stack) -> None:
    page = await console.open("live")
    await expect(page.locator("#stream-state")).to_contain_text("Updated", timeout=10_000)
    number, _ = await interactive_call(api, stack)
    row = page.locator("#calls tbody tr", has_text=number)
    await expect(row).to_be_visible(timeout=20_000)
    await expect(row).to_contain_text("survey")
    await expect(row).to_contain_text("COLLECT")  # the survey waits for a key
    await expect(row).to_contain_text("africastalking")
    assert int(await page.locator("#live-calls").inner_text()) >= 1
    await expect(page.locator("#lag tbody tr", has_text="flow-runner")).to_be_visible()
    await console.shot("live")
    # its row opens the call's trace while it is in progress
    await row.get_by_role("link", name="Trace").click()
    await expect(page.locator("#call-state")).to_contain_text("In progress", timeout=10_000)
    await expect(page.locator("#trace tbody tr", has_text="action COLLECT")).to_be_visible()
    await page.go_back()
    await sim_post(stack, f"/sim/phones/{number}/hangup")
    await expect(page.locator("#calls tbody tr", has_text=number)).to_have_count(0, timeout=20_000)


async def test_campaign_from_a_csv_runs_to_completion(console: Console) -> None:
    page = await console.open("campaigns")
    await page.get_by_text("New campaign from a CSV").click()
    name = f"browser-{secrets.token_hex(3)}"
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Flow").select_option("survey")
    await page.get_by_label("Calls per second").fill("5")
    rows = "phone,firstName\n" + "".join(f"{console_number()},Caller{i}\n" for i in range(3)) + "not-a-number,Bad\n"
    await page.get_by_label("Contacts (CSV with a phone column)").set_input_files(
        files=[{"name": "contacts.csv", "mimeType": "text/csv", "buffer": rows.encode()}]
    )
    await page.get_by_role("button", name="Create campaign").click()
    report = page.locator("#upload-report")
    await expect(report).to_contain_text("3 contacts accepted, 1 rejected")
    await expect(report.get_by_role("list", name="Rejected lines")).to_contain_text("line 5")
    row = page.locator("#campaigns tbody tr", has_text=name)
    await expect(row.locator(".state")).to_have_text("running", timeout=10_000)
    await expect(row.get_by_role("button", name=f"pause {name}")).to_be_visible()
    await console.shot("campaigns-running")
    await expect(row.locator(".state")).to_have_text("completed", timeout=90_000)
    await expect(row).to_contain_text("3 / 3 done")
    await console.shot("campaigns")


async def test_pause_resume_and_cancel_from_the_page(console: Console, api: httpx.AsyncClient) -> None:
    spec = {"name": f"controls-{secrets.token_hex(3)}", "flow": "survey", "policy": {"cps": 0.1}}
    campaign = (await api.post("/v1/campaigns", json=spec)).json()
    contacts = [{"phone": console_number()} for _ in range(20)]  # at 0.1 calls/s: running for minutes
    (await api.post(f"/v1/campaigns/{campaign['campaign_id']}/contacts", json=contacts)).raise_for_status()
    page = await console.open("campaigns")
    row = page.locator(f'#campaigns tbody tr[data-campaign="{campaign["campaign_id"]}"]')
    await expect(row.locator(".state")).to_have_text("draft")
    for action, state in (("start", "running"), ("pause", "paused"), ("resume", "running"), ("cancel", "cancelled")):
        await row.get_by_role("button", name=f"{action} {campaign['name']}").click()
        await expect(row.locator(".state")).to_have_text(state)
    await expect(row.get_by_role("button")).to_have_count(0)  # nothing left to do with a cancelled campaign


async def test_calls_page_opens_a_trace_and_downloads_the_csv(console: Console, survey_calls: list[str]) -> None:
    page = await console.open("calls")
    await page.get_by_label("Flow").fill("survey")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page.locator("#cdrs tbody tr").first).to_contain_text("survey")
    await console.shot("calls")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download CSV").click()
    download = await info.value
    text = (await download.path()).read_text()  # type: ignore[union-attr]
    table = list(csv.DictReader(io.StringIO(text)))
    assert {"call_id", "status", "flow_id", "duration_s"} <= set(table[0])
    assert {r["flow_id"] for r in table} == {"survey"}  # the page's filter went to the export
    assert set(survey_calls) <= {r["call_id"] for r in table}
    # a finished call's trace: callbacks, actions and replies in order
    await page.goto(f"{console.base}/console/calls/{survey_calls[0]}")
    await expect(page.locator("#call-state")).to_have_text("Ended: completed")
    trace = page.locator("#trace tbody tr")
    await expect(trace.filter(has_text="callback")).not_to_have_count(0)
    await expect(trace.filter(has_text="action COLLECT at /actions/3")).to_have_count(1)
    await expect(trace.filter(has_text="reply with")).not_to_have_count(0)
    await expect(page.locator("#cdr")).to_contain_text('{"rating":"4"}')
    await console.shot("call-trace", full_page=True)


async def test_reports_draw_charts_and_a_funnel(console: Console, survey_calls: list[str]) -> None:
    page = await console.open("reports?flow=survey")
    await expect(page.locator("#summary tbody tr").first).to_be_visible()
    await expect(page.locator("#funnel-cap")).to_contain_text("of survey")  # drawn after the summary
    charts = await page.evaluate(
        """() => ["chart-calls", "chart-acd", "chart-cost", "chart-funnel"].map((id) => {
             const chart = Chart.getChart(id);
             return chart ? {id, type: chart.config.type, points: chart.data.datasets.map((d) => d.data.length)} : null;
           })"""
    )
    assert all(charts), charts
    funnel = charts[3]
    assert funnel["type"] == "funnel" and funnel["points"][0] >= 5  # every call, SAY, SESSIONDATA, LABEL, COLLECT …
    widths = await page.evaluate("() => Chart.getChart('chart-funnel').data.datasets[0].data")
    assert widths[0] >= len(survey_calls) and widths[0] == max(widths)  # every call, then fewer down the flow
    await expect(page.locator("#answers tbody tr", has_text="rating")).not_to_have_count(0)
    await expect(page.locator("#drops tbody tr").first).to_be_visible()
    await console.shot("reports", full_page=True)


async def test_flow_editor_shows_problems_at_their_line(console: Console) -> None:
    page = await console.open("flows")
    await page.get_by_role("link", name="survey", exact=True).click()
    await expect(page.locator("#check-state")).to_contain_text("Valid: version")
    editor = page.get_by_label("Flow source (YAML or JSON)")
    source = await editor.input_value()
    broken = source.replace("type: COLLECT", "type: COLLEKT", 1)
    line = source[: source.index("type: COLLECT")].count("\n") + 1
    await editor.fill(broken)
    problem = page.locator("#problems li", has_text="unknown action 'COLLEKT'")
    await expect(problem).to_contain_text(f"Line {line}")
    await expect(page.locator("#check-state")).to_contain_text("error(s)")
    await expect(page.locator("#gutter .bad", has_text=str(line))).to_have_count(1)
    await problem.get_by_role("button").click()  # puts the cursor on that line
    selected = await editor.evaluate("(t) => t.value.slice(t.selectionStart, t.selectionEnd)")
    assert "COLLEKT" in selected
    await page.get_by_role("button", name="Revert to saved").click()
    await expect(page.locator("#check-state")).to_contain_text("(saved)")


async def test_walk_a_flow_with_the_keypad(console: Console) -> None:
    page = await console.open("flows/survey")
    await page.get_by_role("button", name="Call this flow").click()
    transcript = page.get_by_role("list", name="What the call said")
    await expect(transcript).to_contain_text("how satisfied are you", timeout=20_000)
    await console.shot("flow-call")
    await page.get_by_role("button", name="Key 5").click()
    await expect(transcript).to_contain_text("You pressed 5", timeout=20_000)
    await expect(transcript).to_contain_text("You rated us 5", timeout=20_000)
    await expect(page.locator("#call-status")).to_contain_text("Call ended", timeout=30_000)
    await expect(page.get_by_role("button", name="Call this flow")).to_be_enabled()
    await console.shot("flows", full_page=True)


async def test_keys_typed_on_the_keypad_reach_the_call(console: Console) -> None:
    page = await console.open("flows/survey")
    await page.get_by_role("button", name="Call this flow").click()
    transcript = page.get_by_role("list", name="What the call said")
    await expect(transcript).to_contain_text("how satisfied are you", timeout=20_000)
    await page.get_by_role("group", name="Keypad").press("3")  # the keyboard, not a click
    await expect(transcript).to_contain_text("You rated us 3", timeout=20_000)


# --- accessibility: every control labelled and reachable by keyboard ---------------------------
CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])"
UNLABELLED = (
    "() => {"
    "  const name = (el) => (el.getAttribute('aria-label') || '').trim()"
    "    || (el.getAttribute('aria-labelledby') || '').split(' ')"
    "         .map((id) => document.getElementById(id)?.textContent || '').join('').trim()"
    "    || (el.labels && [...el.labels].map((l) => l.textContent).join('').trim())"
    "    || (['A', 'BUTTON', 'SUMMARY'].includes(el.tagName) ? el.textContent.trim() : '');"
    f"  return [...document.querySelectorAll({CONTROLS!r})]"
    "    .filter((el) => el.offsetParent !== null && !name(el)).map((el) => el.outerHTML.slice(0, 120));"
    "}"
)
REACHABLE = (
    f"() => [...document.querySelectorAll({CONTROLS!r})]"
    "  .filter((el) => el.offsetParent !== null && !el.disabled).map((el) => el.outerHTML.slice(0, 120))"
)


async def tab_through(page: Page, limit: int = 400) -> set[str]:
    """The controls Tab reaches from the top of the page, once round. A control Tab stays in for
    a few presses (a date field's parts) is counted once."""
    seen: set[str] = set()
    first = None
    await page.locator("body").focus()
    for _ in range(limit):
        await page.keyboard.press("Tab")
        html = await page.evaluate("() => document.activeElement?.outerHTML.slice(0, 120) ?? ''")
        if html == first:
            break
        first = first or html
        seen.add(html)
    return seen


@pytest.mark.parametrize("path", PAGES)
async def test_every_control_is_labelled_and_reachable_by_keyboard(console: Console, path: str) -> None:
    page = await console.open(path)
    await page.wait_for_load_state("networkidle") if path != "live" else await page.wait_for_timeout(1500)
    if path == "campaigns":
        await page.get_by_text("New campaign from a CSV").click()
    await console.shot("page-" + path.replace("/", "-"), full_page=True)  # every page, for a person to look at
    assert await page.evaluate(UNLABELLED) == []
    reachable = set(await page.evaluate(REACHABLE))
    missed = reachable - await tab_through(page)
    assert not missed, missed


@pytest.mark.slow
async def test_a_wallboard_follows_a_campaign_of_forty_calls(console: Console, api: httpx.AsyncClient) -> None:
    """The live page and the campaigns page, side by side, through a whole campaign: the live count
    rises with the calls out and falls back to none; the campaign's bar reaches 40 / 40."""
    spec = {"name": f"wallboard-{secrets.token_hex(3)}", "flow": "survey", "policy": {"cps": 4, "max_concurrent": 10}}
    campaign = (await api.post("/v1/campaigns", json=spec)).json()
    contacts = [{"phone": console_number()} for _ in range(40)]
    (await api.post(f"/v1/campaigns/{campaign['campaign_id']}/contacts", json=contacts)).raise_for_status()
    live = await console.open("live")
    board = await live.context.new_page()
    await board.goto(f"{console.base}/console/campaigns")
    (await api.post(f"/v1/campaigns/{campaign['campaign_id']}/start")).raise_for_status()
    peak = 0
    row = board.locator(f'#campaigns tbody tr[data-campaign="{campaign["campaign_id"]}"]')
    for _ in range(240):
        shown = await live.locator("#calls tbody tr").count()
        peak = max(peak, shown)
        assert shown <= 10 + 5, shown  # the campaign's cap, and a few of the other tests' calls at most
        if (await row.locator(".state").inner_text()) == "completed":
            break
        await live.wait_for_timeout(500)
    await expect(row).to_contain_text("40 / 40 done")
    assert peak >= 1, peak  # calls were seen in progress (the test stack runs calls 50 times faster)
    await expect(live.locator("#calls tbody tr")).to_have_count(0, timeout=30_000)
    await board.close()


async def test_an_edited_draft_is_what_the_call_runs(console: Console, api: httpx.AsyncClient) -> None:
    page = await console.open("flows/survey")
    await expect(page.locator("#check-state")).to_contain_text("(saved)")
    editor = page.get_by_label("Flow source (YAML or JSON)")
    saved = await editor.input_value()
    await editor.fill(saved.replace("Thank you. You rated us", "Draft two thanks you for"))
    await expect(page.locator("#check-state")).to_contain_text("(draft)")
    await page.get_by_role("button", name="Call this draft").click()
    transcript = page.get_by_role("list", name="What the call said")
    await expect(transcript).to_contain_text("how satisfied are you", timeout=20_000)
    await page.get_by_role("group", name="Keypad").press("2")
    await expect(transcript).to_contain_text("Draft two thanks you for 2", timeout=20_000)
    await expect(page.locator("#call-status")).to_contain_text("Call ended", timeout=30_000)
    # its record names the flow and the draft's own version, not the saved one
    saved_version = (await api.get("/v1/flows/survey")).json()["version"]

    async def record() -> dict[str, Any] | None:
        calls = (await api.get("/v1/calls", params={"flow": "survey", "limit": 5})).json()["calls"]
        return next((c for c in calls if c["flow_version"] not in (None, saved_version)), None)

    cdr = await wait_for(record, 30)
    assert cdr["inputs"] == {"rating": "2"}
    # an invalid draft cannot be called
    await editor.fill(saved.replace("type: COLLECT", "type: COLLEKT", 1))
    await expect(page.locator("#check-state")).to_contain_text("error(s)")
    await expect(page.get_by_role("button", name="Call this draft")).to_be_disabled()
