"""``make demo``: a real workload through the whole pipeline, against the provider simulator.

100 outbound calls of the survey flow, run as a campaign through the api service (``POST
/v1/campaigns``, a CSV of 100 contacts uploaded, ``start``; the dialer's scheduler hands them on)
with the local tenant's API key (``.stack/api-key.json``, minted by ``Stack.up``), and 20 inbound
calls to the IVR number (the default tenant's, as ``flows/routes.yaml`` routes it), started on the
simulator. The simulated people answer,
are busy or do not answer in the simulator's mix, and press keys. The demo waits until PostgreSQL
holds a CDR for every call, then prints the summary read back through the reports API.
"""

from __future__ import annotations

import asyncio
import random
import time

import asyncpg
import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from switchboard.providers import PROVIDERS
from switchboard_devstack.stack import Stack, StackConfig
from switchboard_devstack.summary import Summary, demo_keys, read_summary

console = Console()
IVR_NUMBER = {"africastalking": "+254711000200", "voxology": "+15550000200", "telesign": "+15550000920"}
INBOUND_PATH = {
    "africastalking": "/sim/inbound",
    "voxology": "/sim/voxology/inbound",
    "telesign": "/sim/telesign/inbound",
}
IVR_SCRIPTS = [["1"], ["2"], ["9", "1"], ["7", "2"], ["5", "5", "5"]]


FIRST_NAMES = ["Amina", "Baraka", "Chebet", "Daudi", "Esther", "Faraji", "Gathoni", "Hassan"]


def survey_flow(provider: str) -> str:
    """``survey`` (asks again on a wrong key), or on a provider whose calls are one message
    (Infobip) ``survey-message`` (one question, one key)."""
    return "survey-message" if PROVIDERS[provider].capabilities.one_message else "survey"


async def run_campaign(
    http: httpx.AsyncClient, api: str, key: str, count: int, rng: random.Random, provider: str
) -> dict:
    """Create the survey campaign, upload ``count`` contacts as a CSV, start it; returns the
    campaign with the upload's report (``upload``)."""
    headers = {"Authorization": f"Bearer {key}"}
    spec = {
        "name": "demo survey",
        "flow": survey_flow(provider),
        "provider": provider,
        "policy": {"cps": 20},
        "session_data": {"survey": "demo"},
    }
    r = await http.post(f"{api}/v1/campaigns", json=spec, headers=headers)
    r.raise_for_status()
    campaign = r.json()
    rows = ["phone,firstName"] + [
        f"2547{rng.randint(10, 99)}{i:06d},{FIRST_NAMES[i % len(FIRST_NAMES)]}" for i in range(count)
    ]
    r = await http.post(
        f"{api}/v1/campaigns/{campaign['campaign_id']}/contacts",
        content="\n".join(rows).encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    r.raise_for_status()
    upload = r.json()
    r = await http.post(f"{api}/v1/campaigns/{campaign['campaign_id']}/start", headers=headers)
    r.raise_for_status()
    return {**r.json(), "upload": upload}


async def campaign_progress(http: httpx.AsyncClient, api: str, key: str, campaign_id: str) -> dict:
    r = await http.get(f"{api}/v1/campaigns/{campaign_id}/progress", headers={"Authorization": f"Bearer {key}"})
    r.raise_for_status()
    return dict(r.json())


async def start_inbound(http: httpx.AsyncClient, sim: str, count: int, rng: random.Random, provider: str) -> None:
    for i in range(count):
        script = IVR_SCRIPTS[i % len(IVR_SCRIPTS)]
        caller = f"+2547{rng.randint(10, 99)}{500000 + i:06d}"
        r = await http.post(
            f"{sim}{INBOUND_PATH[provider]}", json={"caller": caller, "to": IVR_NUMBER[provider], "digits": script}
        )
        r.raise_for_status()
        await asyncio.sleep(0.05)


async def _count(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM cdrs"))
    finally:
        await conn.close()


async def workload(
    config: StackConfig, key: str, outbound: int, inbound: int, provider: str, timeout_s: float = 600
) -> tuple[dict, float]:
    rng = random.Random(2026)
    expected = outbound + inbound
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as http:
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            contacts = progress.add_task("campaign contacts done", total=outbound)
            cdrs = progress.add_task("CDRs in PostgreSQL", total=expected)
            inbound_task = asyncio.create_task(start_inbound(http, config.sim_url, inbound, rng, provider))
            campaign = await run_campaign(http, config.api_url, key, outbound, rng, provider)
            await inbound_task
            while time.monotonic() - started < timeout_s:
                state = await campaign_progress(http, config.api_url, key, campaign["campaign_id"])
                progress.update(contacts, completed=state["by_state"]["done"])
                done = await _count(config.database_url)
                progress.update(cdrs, completed=done)
                if done >= expected and state["status"] == "completed":
                    break
                await asyncio.sleep(0.5)
            campaign["progress"] = state
    return campaign, time.monotonic() - started


def print_summary(s: Summary, campaign: dict, elapsed: float, expected: int) -> None:
    upload, progress = campaign["upload"], campaign.get("progress", {})
    outbound = upload["accepted"] + upload["rejected"]
    console.print(
        f"\n[bold]Workload[/]: campaign {campaign['campaign_id']} ({progress.get('status', '?')}): "
        f"{outbound} contacts ({upload['rejected']} refused at upload), {progress.get('attempts', 0)} attempts; "
        f"{expected - outbound} inbound calls, {elapsed:.1f} s wall clock"
    )
    finals = ", ".join(f"{k}: {v}" for k, v in sorted(progress.get("by_final_status", {}).items()))
    console.print(f"Campaign contacts by final status: {finals}\n")
    table = Table(title="Calls by status (reports API)")
    table.add_column("status")
    table.add_column("calls", justify="right")
    for status, n in s.by_status.items():
        table.add_row(status, str(n))
    table.add_row("[bold]total", f"[bold]{s.total}")
    console.print(table)
    tenants = Table(title="Calls per tenant (reports API)")
    for column in ("tenant", "direction", "calls", "answered", "cost"):
        tenants.add_column(column, justify="left" if column in ("tenant", "direction") else "right")
    for row in s.by_tenant:
        cost_text = f"{row['cost']:.3f} {row['currency']}" if row["cost"] is not None else "-"
        tenants.add_row(row["tenant_id"], row["direction"], str(row["calls"]), str(row["answered"]), cost_text)
    console.print(tenants)
    console.print(f"Outbound answer rate: [bold]{s.answer_rate_outbound:.1%}[/]")
    console.print(f"Mean duration of answered calls: [bold]{s.mean_duration_s:.1f} s[/]")
    for currency, cost in s.cost_by_currency.items():
        console.print(f"Total cost: [bold]{cost:.3f} {currency}[/]")
    if not s.cost_by_currency:
        console.print("Total cost: not reported by this provider's callbacks")
    answers = Table(title="Survey answers (press 1 to 5)")
    answers.add_column("answer")
    answers.add_column("calls", justify="right")
    for answer, n in s.survey_answers.items():
        answers.add_row(str(answer), f"{n}  {'#' * n}")
    console.print(answers)
    if s.ivr_choices:
        console.print("IVR menu choices: " + ", ".join(f"{k or 'none'}: {v}" for k, v in s.ivr_choices.items()))


def run_demo(*, provider: str, outbound: int, inbound: int, speed: float) -> int:
    if provider not in PROVIDERS:
        console.print(f"[red]provider {provider!r} is not available; choose one of {', '.join(PROVIDERS)}[/]")
        return 2
    if provider not in IVR_NUMBER:  # Infobip: outbound voice messages only (infobip.md §1)
        inbound = 0
        console.print(f"{provider} has no inbound calls: the demo runs its outbound part only")
    console.print(f"Provider: [bold]{provider}[/] (through its simulator)")
    config = StackConfig(speed=speed)
    config.extra_env.setdefault("SIM_NO_INPUT_CHANCE", "0.05")
    stack = Stack(config)
    if any(stack.status().values()):
        console.print("[yellow]a stack is already running; stopping it first[/]")
        stack.down()
    with console.status("starting Tansu, Redis, PostgreSQL and the seven services…"):
        stack.up()
    try:
        console.print(f"Local tenant [bold]local[/]: its API key is in {config.api_key_file}")
        asyncio.run(_truncate(config.database_url))
        results, elapsed = asyncio.run(workload(config, stack.api_key(), outbound, inbound, provider))
        stack.mint_local_key("default")  # the inbound IVR calls are the default tenant's
        summary = asyncio.run(read_summary(config.api_url, demo_keys(config.root)))
        print_summary(summary, results, elapsed, outbound + inbound)
        if summary.total < outbound + inbound:
            console.print(f"[red]only {summary.total} of {outbound + inbound} calls reached PostgreSQL[/]")
            return 1
        return 0
    finally:
        with console.status("stopping the stack…"):
            stack.down()


async def _truncate(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("TRUNCATE cdrs, cdr_calls")
        # a campaign left running by an interrupted demo would add its calls to this one's
        await conn.execute("UPDATE campaigns SET status = 'cancelled' WHERE status IN ('running', 'paused')")
    finally:
        await conn.close()
