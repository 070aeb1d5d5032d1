"""The CDR query API on the real stack: one call with its trail, filters and keyset pages,
streaming CSV and NDJSON exports, the summary report and the per-step funnel; all per tenant.

Rows are written with the cdr-sink's own upsert (as the sink lands them), for a campaign of this
test's own so that other tests' calls do not count."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from switchboard.events import CallStatus, Direction, SessionEnded
from switchboard_cdr_sink.store import row_from_session, upsert_cdrs

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


def trail(answer: str | None) -> list[dict[str, Any]]:
    t = int(T0.timestamp() * 1000)
    steps = [
        {"t": t, "k": "cb", "e": "call.started"},
        {"t": t, "k": "act", "p": "/actions/0", "a": "SAY"},
        {"t": t, "k": "act", "p": "/actions/1", "a": "COLLECT"},
        {"t": t, "k": "reply", "n": 2},
    ]
    if answer is not None:
        steps += [
            {"t": t + 5000, "k": "cb", "e": "input.received", "d": answer},
            {"t": t + 5000, "k": "act", "p": "/actions/2", "a": "SAY"},
            {"t": t + 5000, "k": "reply", "n": 2},
        ]
    return [*steps, {"t": t + 9000, "k": "cb", "e": "call.ended"}]


def cdr(tenant: str, campaign: str, i: int) -> dict[str, Any]:
    """Call ``i``: every third not answered (hung up at the COLLECT), the rest answered 1–5;
    one an hour apart from 23:30 on 30 November, so the set spans two months (partitions)."""
    answered = i % 3 != 0
    answer = str(i % 5 + 1) if answered else None
    event = SessionEnded(
        call_key=f"africastalking:{campaign}-{i:03d}",
        call_id=f"{campaign}-{i:03d}",
        tenant_id=tenant,
        provider="africastalking",
        direction=Direction.OUTBOUND,
        caller_number="+254711000100",
        destination_number=f"+2547000{i:05d}",
        status=CallStatus.COMPLETED if answered else CallStatus.NO_ANSWER,
        hangup_cause="NORMAL_CLEARING" if answered else "NO_ANSWER",
        started_at=T0 + timedelta(hours=i) if answered else None,
        ended_at=T0 + timedelta(hours=i, seconds=61),
        duration_s=61 if answered else 0,
        cost=Decimal("1.5") if answered else None,
        currency="KES" if answered else None,
        flow_id=f"survey-{campaign}",
        flow_version="3",
        campaign_id=campaign,
        inputs={"rating": answer} if answer else {},
        trail=trail(answer),
    )
    return row_from_session(event)


@pytest.fixture(scope="module")
async def calls(stack) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    campaign = f"cdrapi-{uuid.uuid4().hex[:8]}"
    rows = [cdr("local", campaign, i) for i in range(25)]
    engine = create_async_engine(stack.config.database_url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        await upsert_cdrs(engine, rows)
    finally:
        await engine.dispose()
    return {"campaign": campaign, "rows": rows}


async def test_one_call_has_its_cdr_and_trail_and_is_404_for_another_tenant(api, default_api, calls):
    call_id = calls["rows"][4]["call_id"]
    r = await api.get(f"/v1/calls/{call_id}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["call_id"], body["status"], body["duration_s"], body["cost"]) == (call_id, "completed", 61, "1.5000")
    assert [s["k"] for s in body["trail"]] == ["cb", "act", "act", "reply", "cb", "act", "reply", "cb"]
    assert body["trail"][4]["d"] == "5"
    r = await default_api.get(f"/v1/calls/{call_id}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await api.get("/v1/calls/no-such-call")).status_code == 404


async def test_pages_follow_the_cursor_newest_first_without_repeats(api, default_api, calls):
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"campaign": calls["campaign"], "limit": 10, **({"cursor": cursor} if cursor else {})}
        body = (await api.get("/v1/calls", params=params)).json()
        seen += [c["call_id"] for c in body["calls"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 25
    assert seen == [r["call_id"] for r in sorted(calls["rows"], key=lambda r: r["started_at"] or r["ended_at"])][::-1]
    # filters: status, number, time range; another tenant sees none of them
    no_answer = (await api.get("/v1/calls", params={"campaign": calls["campaign"], "status": "no-answer"})).json()
    assert len(no_answer["calls"]) == 9 and {c["status"] for c in no_answer["calls"]} == {"no-answer"}
    one = (await api.get("/v1/calls", params={"number": "+254700000007"})).json()
    assert [c["call_id"] for c in one["calls"]] == [calls["rows"][7]["call_id"]]
    december = (
        await api.get("/v1/calls", params={"campaign": calls["campaign"], "since": "2026-12-01T00:00:00Z"})
    ).json()
    assert len(december["calls"]) == 24  # call 0 started at 23:30 on 30 November
    assert (await default_api.get("/v1/calls", params={"campaign": calls["campaign"]})).json()["calls"] == []
    r = await api.get("/v1/calls", params={"cursor": "not-a-cursor"})
    assert r.status_code == 400 and "cursor" in r.text


async def test_csv_and_ndjson_exports_stream_every_row(api, calls):
    r = await api.get("/v1/calls.csv", params={"campaign": calls["campaign"]})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert len(table) == 25
    row = next(t for t in table if t["call_id"] == calls["rows"][1]["call_id"])
    assert (row["status"], row["cost"], row["currency"], orjson.loads(row["inputs"])) == (
        "completed", "1.5000", "KES", {"rating": "2"},
    )  # fmt: skip
    r = await api.get("/v1/calls.ndjson", params={"campaign": calls["campaign"], "status": "completed"})
    lines = [orjson.loads(line) for line in r.text.splitlines()]
    assert len(lines) == 16 and all(x["status"] == "completed" for x in lines)


async def test_summary_by_campaign_and_by_day(api, calls):
    body = (await api.get("/v1/reports/summary", params={"group_by": "campaign", "campaign": calls["campaign"]})).json()
    [group] = body["groups"]
    assert group == {
        "group": calls["campaign"], "calls": 25, "answered": 16, "asr": 0.64, "acd_s": 61.0,
        "total_minutes": round(16 * 61 / 60, 2), "billable_minutes": 32, "cost": {"KES": "24.0000"},
    }  # fmt: skip
    days = (await api.get("/v1/reports/summary", params={"group_by": "day", "campaign": calls["campaign"]})).json()
    assert [g["group"][:10] for g in days["groups"]] == ["2026-12-01", "2026-11-30"]
    assert sum(g["calls"] for g in days["groups"]) == 25
    r = await api.get("/v1/reports/summary", params={"group_by": "colour"})
    assert r.status_code in (400, 422) and "group_by" in r.text


async def test_funnel_counts_each_action_where_callers_hung_up_and_the_answers(api, calls):
    flow = f"survey-{calls['campaign']}"
    body = (await api.get("/v1/reports/funnel", params={"flow": flow, "version": "3"})).json()
    assert body["calls"] == 25
    assert [(a["pointer"], a["action"], a["calls"]) for a in body["actions"]] == [
        ("/actions/0", "SAY", 25), ("/actions/1", "COLLECT", 25), ("/actions/2", "SAY", 16),
    ]  # fmt: skip
    ended = {(h["last_action"], h["status"]): h["calls"] for h in body["hangups"]}
    assert ended == {("/actions/1", "no-answer"): 9, ("/actions/2", "completed"): 16}
    answers = [str(i % 5 + 1) for i in range(25) if i % 3]
    assert body["collects"] == {"rating": {a: answers.count(a) for a in set(answers)}}
    assert (await api.get("/v1/reports/funnel")).status_code == 400
