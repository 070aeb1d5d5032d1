"""Provider fields out of bounds, through the whole stack: a live callback is a
400 naming the field, never a 500; an end-of-call notification still ends the call and its CDR
lands, with the field null and its raw value kept in ``cdrs.raw_invalid``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

import httpx
import orjson
import pytest

from switchboard_devstack.stack import TS_SIM_KEY

from .helpers import wait_cdr

pytestmark = pytest.mark.integration


def at_live(session_id: str, **extra: str) -> dict[str, str]:
    return {
        "isActive": "1",
        "sessionId": session_id,
        "direction": "Inbound",
        "callerNumber": "+254700000001",
        "destinationNumber": "+254711000200",
        "callStartTime": "2024-05-06+09:30:00",
        **extra,
    }


def at_final(session_id: str, **extra: str) -> dict[str, str]:
    return {
        **at_live(session_id),
        "isActive": "0",
        "callSessionState": "Completed",
        "status": "Success",
        "hangupCause": "NORMAL_CLEARING",
        "durationInSeconds": "48",
        "currencyCode": "KES",
        "amount": "4.800",
        **extra,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("callStartTime", "2024-13-06+09:30:00"),
        ("amount", "NaN"),
        ("amount", "Infinity"),
        ("durationInSeconds", str(2**40)),
        ("dtmfDigits", "1" * 100_000),
        ("hangupCause", "X" * 100),
    ],
)
async def test_live_at_callback_out_of_bounds_is_a_400_naming_the_field(stack, http, field, value):
    for url in (stack.config.callback_url, stack.config.events_url):
        r = await http.post(url, data=at_live(f"ATVId_{uuid.uuid4().hex}", **{field: value}))
        assert r.status_code == 400, r.text
        assert r.json()["field"] == field and field in r.json()["detail"]


async def sink_ready(stack, http: httpx.AsyncClient) -> dict:  # type: ignore[no-untyped-def]
    r = await http.get(stack.config.url(stack.config.sink_port) + "/ready")
    assert r.status_code == 200, r.text
    return r.json()


async def test_final_at_notification_with_fields_out_of_bounds_still_makes_its_cdr(stack, http):
    sid = f"ATVId_{uuid.uuid4().hex}"
    out_of_bounds = {
        "hangupCause": "X" * 100,
        "currencyCode": "KESKESKESKES",
        "amount": "1e20",
        "durationInSeconds": str(2**40),
    }
    r = await http.post(stack.config.callback_url, data=at_final(sid, **out_of_bounds))
    assert r.status_code == 200 and r.content == b""
    row = await wait_cdr(stack, f"africastalking:{sid}")
    assert (row["hangup_cause_raw"], row["currency"], row["cost"], row["duration_s"]) == (None, None, None, 0)
    assert orjson.loads(row["raw_invalid"]) == out_of_bounds
    assert row["caller_number"] == "+254700000001"
    assert (await sink_ready(stack, http))["sink_state"]["state"] == "ok"


async def test_final_at_notification_with_an_impossible_start_time_lands(stack, http):
    sid = f"ATVId_{uuid.uuid4().hex}"
    r = await http.post(stack.config.events_url, data=at_final(sid, callStartTime="2024-13-06+09:30:00"))
    assert r.status_code == 200
    row = await wait_cdr(stack, f"africastalking:{sid}")
    assert row["started_at"] is None and row["duration_s"] == 48
    assert orjson.loads(row["raw_invalid"]) == {"callStartTime": "2024-13-06+09:30:00"}


async def test_voxology_end_call_out_of_bounds_lands(stack, http):
    call_id = f"vox-{uuid.uuid4().hex}"
    body = {
        "type": "end_call",
        "call_id": call_id,
        "direction": "inbound",
        "caller_no": "+15550000001",
        "api_no": "+15550000100",
        "status": "completed",
        "duration": 2**60,
        "start_time": "2024-13-06T09:30:00.000Z",
    }
    r = await http.post(stack.config.vox_callback_url, json=body)
    assert r.status_code == 200, r.text
    row = await wait_cdr(stack, f"voxology:{call_id}")
    assert row["duration_s"] == 0 and row["hangup_cause"] == "NORMAL_CLEARING"
    assert orjson.loads(row["raw_invalid"]) == {"duration": str(2**60), "start_time": "2024-13-06T09:30:00.000Z"}


async def test_telesign_call_completed_out_of_bounds_lands(stack, http):
    reference = uuid.uuid4().hex.upper()
    raw = orjson.dumps(
        {
            "event": "call_completed",
            "reference_id": reference,
            "data": {"to": "15550000900", "from": "15550000001", "status": "hangup", "duration": "NaN"},
        }
    )
    signature = base64.b64encode(hmac.new(base64.b64decode(TS_SIM_KEY), raw, hashlib.sha256).digest()).decode()
    r = await http.post(
        stack.config.ts_callback_url,
        content=raw,
        headers={"Content-Type": "application/json", "X-TS-Authorization": signature},
    )
    assert r.status_code == 200, r.text
    row = await wait_cdr(stack, f"telesign:{reference}")
    assert row["duration_s"] == 0 and orjson.loads(row["raw_invalid"]) == {"data.duration": "NaN"}
