"""Switchboard's call-control API over Africa's Talking's REST calls, against the simulator."""

from __future__ import annotations

import orjson
import pytest
import redis.asyncio as aioredis

from switchboard.events import CallEvent, CallEventType, decode
from switchboard.redis import call_state_key
from switchboard.topics import Topic

from .helpers import read_topic, sim_call, wait_for

pytestmark = pytest.mark.integration


async def call_id_of(stack, session_id: str) -> str:
    redis = aioredis.from_url(stack.config.redis_url)
    try:
        state = orjson.loads(await redis.get(call_state_key(f"africastalking:{session_id}")))
        return str(state["call_id"])
    finally:
        await redis.aclose()


async def test_transfer_a_bridged_call(stack, http, default_api):
    r = await http.post(
        f"{stack.config.sim_url}/sim/inbound", json={"caller": "+254700000777", "to": "+254711000303", "talk_s": 300}
    )
    session_id = r.json()["session_id"]

    async def bridged():  # type: ignore[no-untyped-def]
        call = (await http.get(f"{stack.config.sim_url}/sim/calls/{session_id}")).json()
        return call["bridged"]

    await wait_for(bridged, 20, 0.05)
    call_id = await call_id_of(stack, session_id)
    r = await default_api.post(
        f"/v1/calls/{call_id}/transfer",
        json={"phone_number": "254700000020", "call_leg": "callee"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "Success" and r.json()["call_key"] == f"africastalking:{session_id}"
    call = await sim_call(http, stack, session_id)
    assert next(t for t in call["transcript"] if t["kind"] == "transfer")["to"] == "+254700000020"
    key = f"africastalking:{session_id}".encode()

    async def transferred():  # type: ignore[no-untyped-def]
        records = await read_topic(stack, Topic.CALL_EVENTS.value, key=key, idle_s=1)
        events = [decode(CallEvent, r.value) for r in records]
        return [e for e in events if e.type is CallEventType.CALL_TRANSFERRED]

    events = await wait_for(transferred, 20, 0.5)
    assert {e.raw["callTransferState"] for e in events} == {"Active", "Completed"}


async def test_transfer_refusals(stack, http, default_api):
    r = await default_api.post("/v1/calls/no-such-call/transfer", json={"phone_number": "+254700000020"})
    assert r.status_code == 404
    r = await default_api.post("/v1/calls/x/transfer", json={"phone_number": "12"})
    assert r.status_code == 400 and r.json()["field"] == "phone_number"
    # a call in the IVR menu is not bridged: Africa's Talking aborts the transfer
    r = await http.post(
        f"{stack.config.sim_url}/sim/inbound",
        json={"caller": "+254700000778", "to": "+254711000200", "digits": ["1"], "hangup_after_s": 30},
    )
    session_id = r.json()["session_id"]

    async def has_state():  # type: ignore[no-untyped-def]
        redis = aioredis.from_url(stack.config.redis_url)
        try:
            return await redis.exists(call_state_key(f"africastalking:{session_id}"))
        finally:
            await redis.aclose()

    await wait_for(has_state, 20, 0.05)
    r = await default_api.post(
        f"/v1/calls/{await call_id_of(stack, session_id)}/transfer",
        json={"phone_number": "+254700000020"},
    )
    assert r.status_code in (409, 404)  # aborted (not bridged), or already over
    if r.status_code == 409:
        problem = r.json()
        assert r.headers["content-type"] == "application/problem+json" and problem["status"] == 409
        assert "Aborted" in problem["detail"] and "bridged" in problem["detail"]
    await sim_call(http, stack, session_id)


async def test_media_upload(stack, http, api):
    good = "https://media.switchboard.test/welcome.mp3"
    r = await api.post("/v1/media", json={"phone_number": "+254711000100", "url": good})
    assert r.status_code == 201 and r.json()["status"] == "uploaded"
    assert good in (await http.get(f"{stack.config.sim_url}/sim/stats")).json()["media"]
    for url in ("https://media.switchboard.test/welcome.ogg", "ftp://media.switchboard.test/a.mp3"):
        r = await api.post("/v1/media", json={"phone_number": "+254711000100", "url": url})
        assert r.status_code == 400 and r.json()["field"] == "url"


async def test_queue_status_input(stack, api):
    r = await api.get("/v1/queues", params={"phone_numbers": "+254711000301,bad"})
    assert r.status_code == 400 and r.json()["field"] == "phone_numbers"
