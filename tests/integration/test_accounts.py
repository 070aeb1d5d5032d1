"""Provider accounts: a dial request and a callback name their account; credentials are per account."""

from __future__ import annotations

import uuid

import pytest

from .helpers import auth, sim_call, wait_cdr

pytestmark = pytest.mark.integration


def number() -> str:
    return f"+2547{uuid.uuid4().int % 10**8:08d}"


async def test_a_named_account_places_the_call_with_its_own_caller_id(stack, http):
    phone = number()
    await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": "answer", "digits": ["3"]})
    r = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers=auth(stack),
        json={"to": phone, "flow": "survey", "account": "ke-ops"},
    )
    assert r.status_code == 200, r.text
    call = await sim_call(http, stack, r.json()["call_key"].split(":", 1)[1])
    assert call["destination_number"] == "+254711000555"  # the account's number rang the person
    row = await wait_cdr(stack, r.json()["call_key"])
    assert row["destination_number"] == "+254711000555" and row["status"] == "completed"


async def test_an_account_whose_key_is_refused_gives_a_failed_cdr(stack, http):
    r = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers=auth(stack),
        json={"to": number(), "flow": "survey", "account": "revoked"},
    )
    assert r.status_code == 502 and "Error401" in r.json()["detail"]
    row = await wait_cdr(stack, f"africastalking:rejected:{r.json()['call_id']}")
    assert row["status"] == "failed" and row["account"] == "revoked"


async def test_an_unknown_account_is_refused_before_the_call(stack, http):
    r = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers=auth(stack),
        json={"to": number(), "flow": "survey", "account": "nope"},
    )
    assert r.status_code == 404 and r.json()["field"] == "account"


async def test_callbacks_name_their_account(stack, http):
    sid = f"ATVId_{uuid.uuid4().hex}"
    base = {
        "isActive": "1",
        "sessionId": sid,
        "direction": "Inbound",
        "callerNumber": "+254700000001",
        "destinationNumber": "+254711000200",
    }
    url = stack.config.callback_url + "?account=ke-ops"
    assert (await http.post(url, data=base)).status_code == 200
    final = {
        **base,
        "isActive": "0",
        "durationInSeconds": "5",
        "hangupCause": "NORMAL_CLEARING",
        "callStartTime": "2026-11-21+10:00:00",
    }
    assert (await http.post(url, data=final)).status_code == 200
    row = await wait_cdr(stack, f"africastalking:{sid}")
    assert row["account"] == "ke-ops"


@pytest.mark.parametrize("where", ["body", "header"])
async def test_a_repeated_idempotency_key_answers_at_once_with_the_first_call(stack, http, where):
    phone, key = number(), f"order-{uuid.uuid4().hex}"
    await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": "answer", "digits": ["4"]})
    body = {"to": phone, "flow": "survey"}
    kw: dict = {"json": {**body, "idempotency_key": key}}
    if where == "header":
        kw = {"json": body, "headers": {**auth(stack), "Idempotency-Key": key}}
    else:
        kw["headers"] = auth(stack)
    first = await http.post(f"{stack.config.api_url}/v1/calls", **kw)
    assert first.status_code == 200, first.text
    again = await http.post(f"{stack.config.api_url}/v1/calls", **kw)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["call_id"] == first.json()["call_id"]
    assert again.json()["call_key"] == first.json()["call_key"]
    calls = (await http.get(f"{stack.config.sim_url}/sim/calls")).json()["calls"]
    assert [c["caller_number"] for c in calls].count(phone) == 1  # rang once (AT: callerNumber = the callee)
    await sim_call(http, stack, first.json()["call_key"].split(":", 1)[1])
