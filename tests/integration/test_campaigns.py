"""Campaigns end to end on the real stack: the api (create, upload, start, pause, resume, cancel,
progress, attempts), the dialer's scheduler and outcome consumer, the provider simulator's people,
and the CDRs in PostgreSQL. Scheduler edge cases with a fixed clock: test_campaign_scheduler.py."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from switchboard.events import DialRequest, decode
from switchboard.topics import Topic

from .helpers import read_topic, wait_for

pytestmark = pytest.mark.integration


def number() -> str:
    return f"+2547{uuid.uuid4().int % 10**8:08d}"


async def person(http: httpx.AsyncClient, stack, phone: str, **behaviour: Any) -> None:  # type: ignore[no-untyped-def]
    r = await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json=behaviour)
    r.raise_for_status()


async def create(api: httpx.AsyncClient, **spec: Any) -> str:
    r = await api.post("/v1/campaigns", json={"name": "test", "flow": "survey", **spec})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "draft"
    return str(r.json()["campaign_id"])


async def upload_csv(api: httpx.AsyncClient, cid: str, text: str) -> dict[str, Any]:
    r = await api.post(f"/v1/campaigns/{cid}/contacts", content=text.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def progress(api: httpx.AsyncClient, cid: str) -> dict[str, Any]:
    r = await api.get(f"/v1/campaigns/{cid}/progress")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def finished(api: httpx.AsyncClient, cid: str, timeout_s: float = 90) -> dict[str, Any]:
    async def done():  # type: ignore[no-untyped-def]
        p = await progress(api, cid)
        return p if p["status"] in ("completed", "cancelled") else None

    return await wait_for(done, timeout_s, interval_s=0.5)


async def test_upload_reports_bad_lines_and_keeps_the_good_ones(api):
    cid = await create(api)
    premium = phonenumbers.format_number(
        phonenumbers.example_number_for_type("KE", PhoneNumberType.PREMIUM_RATE), phonenumbers.PhoneNumberFormat.E164
    )
    good = [number() for _ in range(3)]
    text = (
        "phone,firstName,plan\n"
        f"{good[0]},Amina,gold\n"  # line 2
        "not-a-number,Bob,x\n"  # line 3
        f'{good[1]},"Chebet, Jr",silver\n'  # line 4
        f"{good[2]},only-two\n"  # line 5
        f"{premium},Premium,x\n"  # line 6: the tenant's toll-fraud guard refuses premium numbers
        "\n"
        f'{good[2][1:]},Daudi,"two\nlines"\n'  # line 8, international digits without '+'
    )
    report = await upload_csv(api, cid, text)
    assert report["accepted"] == 3 and report["rejected"] == 3, report
    assert [e["line"] for e in report["errors"]] == [3, 5, 6]
    assert "not-a-number" in report["errors"][0]["error"] and "PREMIUM_RATE" in report["errors"][2]["error"]
    r = await api.post(
        f"/v1/campaigns/{cid}/contacts", json=[{"phone": number(), "firstName": "Esi"}, {"phone": "12"}, "x"]
    )
    assert r.status_code == 200, r.text
    assert (r.json()["accepted"], [e["line"] for e in r.json()["errors"]]) == (1, [2, 3])
    r = await api.get(f"/v1/campaigns/{cid}/contacts")
    contacts = r.json()
    assert len(contacts) == 4 and contacts[1]["phone"] == good[1] and contacts[1]["line"] == 4
    detail = (await api.get(f"/v1/campaigns/{cid}/contacts/{contacts[1]['contact_id']}/attempts")).json()
    assert detail["session_data"] == {"firstName": "Chebet, Jr", "plan": "silver"} and detail["attempt_list"] == []
    # whole-file refusals: no phone column, a content type that is not a contact file
    r = await api.post(f"/v1/campaigns/{cid}/contacts", content=b"name\nx\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 400 and "phone column" in r.json()["detail"]
    r = await api.post(f"/v1/campaigns/{cid}/contacts", content=b"<x/>", headers={"Content-Type": "application/xml"})
    assert r.status_code == 415
    # creation is checked like a call: unknown flow 422, an account the tenant lacks 404
    assert (await api.post("/v1/campaigns", json={"name": "x", "flow": "nope"})).status_code == 422
    assert (await api.post("/v1/campaigns", json={"name": "x", "flow": "survey", "account": "nope"})).status_code == 404
    r = await api.post("/v1/campaigns", json={"name": "x", "flow": "survey", "retry": {"completed": {}}})
    assert r.status_code == 400 and r.json()["field"] == "retry"


async def test_a_campaign_calls_each_contact_once_retries_busy_skips_dnc_and_completes(stack, api, http):
    answering = [number() for _ in range(6)]
    busy, blocked = number(), number()
    for phone in answering:
        await person(http, stack, phone, answer="answer", digits=["4"])
    await person(http, stack, busy, answer="busy")
    r = await api.post("/v1/dnc", json={"numbers": [blocked]})
    assert r.status_code == 200, r.text
    cid = await create(api, policy={"cps": 20}, retry={"busy": {"delay_s": 1, "max_attempts": 2}})
    rows = "\n".join(f"{p},P{i}" for i, p in enumerate([*answering, busy, blocked]))
    assert (await upload_csv(api, cid, f"phone,firstName\n{rows}\n"))["accepted"] == 8
    r = await api.post(f"/v1/campaigns/{cid}/start")
    assert r.status_code == 200 and r.json()["status"] == "running"
    assert (await api.post(f"/v1/campaigns/{cid}/start")).status_code == 409
    final = await finished(api, cid)
    assert final["status"] == "completed", final
    assert final["by_final_status"] == {"completed": 6, "busy": 1, "dnc": 1}
    assert final["attempts"] == 6 + 2 + 1 and final["attempts_by_outcome"]["busy"] == 2
    contacts = {c["phone"]: c for c in (await api.get(f"/v1/campaigns/{cid}/contacts")).json()}
    tried = (await api.get(f"/v1/campaigns/{cid}/contacts/{contacts[busy]['contact_id']}/attempts")).json()
    assert [a["outcome"] for a in tried["attempt_list"]] == ["busy", "busy"]
    gap = tried["attempt_list"][1]["created_at"] > tried["attempt_list"][0]["ended_at"]
    assert gap, "the second attempt came after the first one's end"
    # every dial request of the campaign on the topic: one per attempt, none for the DNC number
    records = await read_topic(stack, Topic.DIAL_REQUESTS.value, idle_s=1.5)
    mine = [r for r in (decode(DialRequest, rec.value) for rec in records) if r.campaign_id == cid]
    assert sorted((r.to, r.attempt) for r in mine) == sorted([(p, 1) for p in answering] + [(busy, 1), (busy, 2)])
    # and the CDRs: each call's with the campaign and its attempt number
    conn = await asyncpg.connect(stack.config.database_url)
    try:

        async def cdrs():  # type: ignore[no-untyped-def]
            got = await conn.fetch(
                "SELECT caller_number, destination_number, status, attempt FROM cdrs WHERE campaign_id = $1", cid
            )
            return got if len(got) == 8 else None

        got = await wait_for(cdrs, 30)
    finally:
        await conn.close()
    # an outbound CDR names the person called as the caller (Africa's Talking's convention)
    assert sorted(r["attempt"] for r in got if busy in (r["caller_number"], r["destination_number"])) == [1, 2]


async def test_pause_resume_and_cancel_through_the_api(stack, api, http):
    phones = [number() for _ in range(30)]
    for phone in phones:
        await person(http, stack, phone, answer="answer", digits=["2"])
    cid = await create(api, policy={"cps": 2})
    await upload_csv(api, cid, "phone\n" + "\n".join(phones) + "\n")
    assert (await api.post(f"/v1/campaigns/{cid}/pause")).status_code == 409, "a draft is not running"
    await api.post(f"/v1/campaigns/{cid}/start")
    await wait_for(lambda: _attempts_at_least(api, cid, 2), 30)
    r = await api.post(f"/v1/campaigns/{cid}/pause")
    assert r.json()["status"] == "paused"
    await asyncio.sleep(3)  # a hopper already handed on still reaches the dialer; then nothing
    held = (await progress(api, cid))["attempts"]
    await asyncio.sleep(3)
    assert (await progress(api, cid))["attempts"] == held, "no attempt while paused"
    assert held < len(phones)
    assert (await api.post(f"/v1/campaigns/{cid}/resume")).json()["status"] == "running"
    await wait_for(lambda: _attempts_at_least(api, cid, held + 2), 30)
    r = await api.post(f"/v1/campaigns/{cid}/cancel")
    assert r.json()["status"] == "cancelled"
    p = await progress(api, cid)
    assert p["status"] == "cancelled" and p["by_final_status"]["cancelled"] > 0
    assert p["by_state"]["pending"] == 0
    assert (await api.post(f"/v1/campaigns/{cid}/resume")).status_code == 409


async def _attempts_at_least(api: httpx.AsyncClient, cid: str, n: int) -> bool:
    return bool((await progress(api, cid))["attempts"] >= n)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.slow
async def test_a_large_upload_streams_with_flat_memory(stack, api):
    """200 000 contacts (about 20 MB of CSV) through the api: its resident memory grows by far less
    than the file, since rows go to PostgreSQL in COPY batches as they arrive."""
    pid = int((stack.run_dir / "api.pid").read_text())
    rows = 200_000
    cid = await create(api)

    async def body() -> AsyncIterator[bytes]:
        yield b"phone,firstName,account,notes\n"
        for start in range(0, rows, 5000):
            chunk = "".join(
                f"+2547{10_000_000 + i:08d},Name{i},ACC-{i:09d},some notes about contact number {i}\n"
                for i in range(start, start + 5000)
            )
            yield chunk.encode()

    size = 31 + sum(
        len(f"+2547{10_000_000 + i:08d},Name{i},ACC-{i:09d},some notes about contact number {i}\n") for i in range(rows)
    )
    before = _rss_kb(pid)
    peak = before
    stop = False

    async def sample() -> None:
        nonlocal peak
        while not stop:
            peak = max(peak, _rss_kb(pid))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    r = await api.post(
        f"/v1/campaigns/{cid}/contacts", content=body(), headers={"Content-Type": "text/csv"}, timeout=600
    )
    stop = True
    await sampler
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == rows
    growth_mb = (peak - before) / 1024
    print(
        f"upload of {rows} rows ({size / 1e6:.1f} MB): {time.monotonic() - started:.1f} s, api RSS +{growth_mb:.1f} MB"
    )
    assert growth_mb < size / 1e6 / 2, f"the api grew by {growth_mb:.1f} MB for a {size / 1e6:.1f} MB file"
