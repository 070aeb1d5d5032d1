"""Calls through all five services on real Tansu, Redis and PostgreSQL, checked in the CDRs."""

from __future__ import annotations

import uuid
from decimal import Decimal
from itertools import pairwise

import pytest
from aiokafka import AIOKafkaProducer

from switchboard.events import DialRequest, encode
from switchboard.testing import says
from switchboard.topics import Topic

from .helpers import auth, sim_call, wait_cdr

pytestmark = pytest.mark.integration


def number() -> str:
    return f"+2547{uuid.uuid4().int % 10**8:08d}"


async def script(http, stack, phone: str, **body) -> None:
    r = await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json=body)
    r.raise_for_status()


async def test_outbound_survey_call(stack, http):
    phone = number()
    await script(http, stack, phone, answer="answer", digits=["9", "3"])
    r = await http.get(
        f"{stack.config.api_url}/voice/invoke-call",
        headers=auth(stack),
        params={"phone": phone.lstrip("+"), "flow": "survey"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["provider_response"]["entries"][0]["status"] == "Queued"
    session_id = body["provider_response"]["entries"][0]["sessionId"]
    call = await sim_call(http, stack, session_id)
    assert call["errors"] == []
    assert says(call)[0] == "Hello, this is a short survey from Switchboard."
    assert "Sorry, please press a key from 1 to 5." in says(call)
    assert says(call)[-1] == "Thank you. You rated us 3. Goodbye."
    row = await wait_cdr(stack, body["call_key"])
    assert row["status"] == "completed" and row["direction"] == "outbound"
    assert row["inputs"] == '{"rating": "3"}' or row["inputs"] == {"rating": "3"}
    assert row["call_id"] == body["call_id"] and row["flow_id"] == "survey"
    assert row["caller_number"] == phone
    assert row["duration_s"] == call["duration_s"] > 0
    assert row["cost"] == Decimal(call["amount"]) > 0 and row["currency"] == "KES"
    assert row["hangup_cause"] == "NORMAL_CLEARING"
    # the call's step trail, through the query API: callbacks with the keys pressed, the actions
    # run (the invalid 9 re-asks, the 3 is thanked), a reply per live callback, the end last
    r = await http.get(f"{stack.config.api_url}/v1/calls/{body['call_id']}", headers=auth(stack))
    assert r.status_code == 200, r.text
    steps = r.json()["trail"]
    callbacks = [s for s in steps if s["k"] == "cb"]
    assert callbacks[-1]["e"] == "call.ended"
    assert [s["d"] for s in callbacks if "d" in s] == ["9", "3"]
    assert {s["a"] for s in steps if s["k"] == "act"} >= {"SAY", "COLLECT"}
    replies = [s for s in steps if s["k"] == "reply"]
    assert len(replies) == sum(1 for s in callbacks if s["e"] in ("call.started", "input.received"))
    assert all(a["t"] <= b["t"] for a, b in pairwise(steps) if a["k"] != "cb" and b["k"] != "cb")


async def test_inbound_ivr_call(stack, http):
    r = await http.post(
        f"{stack.config.sim_url}/sim/inbound", json={"caller": number(), "to": "+254711000200", "digits": ["7", "2"]}
    )
    session_id = r.json()["session_id"]
    call = await sim_call(http, stack, session_id)
    assert call["errors"] == []
    assert "Sorry, that is not a valid choice." in says(call)
    assert says(call)[-1] == "All our agents are busy. Please call again later. Goodbye."
    row = await wait_cdr(stack, f"africastalking:{session_id}")
    assert row["direction"] == "inbound" and row["status"] == "completed" and row["flow_id"] == "ivr"
    assert row["destination_number"] == "+254711000200"


@pytest.mark.parametrize(
    ("answer", "status", "cause"), [("busy", "busy", "USER_BUSY"), ("no-answer", "no-answer", "NO_ANSWER")]
)
async def test_unanswered_outbound_calls(stack, http, answer, status, cause):
    phone = number()
    await script(http, stack, phone, answer=answer)
    r = await http.get(f"{stack.config.api_url}/voice/invoke-call", headers=auth(stack), params={"phone": phone})
    body = r.json()
    row = await wait_cdr(stack, body["call_key"])
    assert (row["status"], row["hangup_cause"], row["duration_s"]) == (status, cause, 0)
    assert row["cost"] == 0 and row["started_at"] is None and row["flow_id"] == "survey"


async def test_dial_refused_by_the_provider_becomes_a_failed_cdr(stack):
    request = DialRequest(to="+12", flow="survey")  # the API would refuse it; the provider does too
    producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(Topic.DIAL_REQUESTS.value, encode(request), key=request.request_id.encode())
    finally:
        await producer.stop()
    row = await wait_cdr(stack, f"africastalking:rejected:{request.call_id}")
    assert row["status"] == "failed" and row["hangup_cause"] == "InvalidPhoneNumber"
    assert row["provider_status"] == "InvalidPhoneNumber" and row["duration_s"] == 0


async def test_caller_hanging_up_mid_flow(stack, http):
    r = await http.post(
        f"{stack.config.sim_url}/sim/inbound",
        json={"caller": number(), "to": "+254711000200", "digits": ["5"], "hangup_after_s": 4},
    )
    session_id = r.json()["session_id"]
    call = await sim_call(http, stack, session_id)
    assert any(t["kind"] == "caller-hangup" for t in call["transcript"])
    row = await wait_cdr(stack, f"africastalking:{session_id}")
    assert row["status"] == "completed" and row["duration_s"] == 4
