"""Write the flow once, run it anywhere: the same flows on Africa's Talking and Voxology, through
their simulators, give the same answers and equivalent CDRs."""

from __future__ import annotations

import uuid

import orjson
import pytest

from .helpers import says, sim_call, wait_cdr

pytestmark = pytest.mark.integration
PROVIDERS = ["africastalking", "voxology"]
IVR = {"africastalking": "+254711000200", "voxology": "+15550000200"}
INBOUND = {"africastalking": "/sim/inbound", "voxology": "/sim/voxology/inbound"}


def number() -> str:
    return f"+2547{uuid.uuid4().int % 10**8:08d}"


async def outbound_survey(stack, http, provider: str, digits: list[str]) -> tuple[dict, dict]:
    phone = number()
    await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": "answer", "digits": digits})
    r = await http.post(
        f"{stack.config.ingress_url}/v1/calls", json={"to": phone, "flow": "survey", "provider": provider}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    session_id = body["call_key"].split(":", 1)[1]
    call = await sim_call(http, stack, session_id)
    return call, await wait_cdr(stack, body["call_key"])


async def inbound_ivr(stack, http, provider: str, digits: list[str]) -> tuple[dict, dict]:
    r = await http.post(
        f"{stack.config.sim_url}{INBOUND[provider]}", json={"caller": number(), "to": IVR[provider], "digits": digits}
    )
    session_id = r.json()["session_id"]
    call = await sim_call(http, stack, session_id)
    return call, await wait_cdr(stack, f"{provider}:{session_id}")


def inputs(row: dict) -> dict:
    value = row["inputs"]
    return orjson.loads(value) if isinstance(value, str) else value


async def test_survey_is_the_same_on_every_provider(stack, http):
    results = {p: await outbound_survey(stack, http, p, ["8", "4"]) for p in PROVIDERS}
    (at_call, at_row), (vx_call, vx_row) = results["africastalking"], results["voxology"]
    assert at_call["errors"] == [] and vx_call["errors"] == []
    assert says(at_call) == says(vx_call)  # the caller hears the same words
    assert inputs(at_row) == inputs(vx_row) == {"rating": "4"}
    for row in (at_row, vx_row):
        assert (row["status"], row["direction"], row["flow_id"]) == ("completed", "outbound", "survey")
        assert orjson.loads(row["session_data"]) == {"tries": "1"}
    assert abs(at_row["duration_s"] - vx_row["duration_s"]) <= 2


@pytest.mark.parametrize("digits", [["1"], ["7", "2"], ["9", "1"]])
async def test_ivr_is_the_same_on_every_provider(stack, http, digits):
    results = {p: await inbound_ivr(stack, http, p, digits) for p in PROVIDERS}
    (at_call, at_row), (vx_call, vx_row) = results["africastalking"], results["voxology"]
    assert says(at_call) == says(vx_call)
    assert inputs(at_row) == inputs(vx_row)
    assert at_row["status"] == vx_row["status"] == "completed"
    assert abs(at_row["duration_s"] - vx_row["duration_s"]) <= 2


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_unanswered_calls_classify_alike(stack, http, provider):
    for answer, status in (("busy", "busy"), ("no-answer", "no-answer")):
        phone = number()
        await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": answer})
        r = await http.post(
            f"{stack.config.ingress_url}/v1/calls", json={"to": phone, "flow": "survey", "provider": provider}
        )
        row = await wait_cdr(stack, r.json()["call_key"])
        assert (row["status"], row["duration_s"]) == (status, 0)
