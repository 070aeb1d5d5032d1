"""Write the flow once, run it anywhere: the same flows on Africa's Talking, Voxology and Telesign,
through their simulators, give the same answers and equivalent CDRs (Infobip, where a flow is one
message: test_infobip.py)."""

from __future__ import annotations

import uuid

import orjson
import pytest
import yaml

from switchboard.providers import PROVIDERS as REGISTRY
from switchboard_devstack.stack import REPO

from .helpers import auth, says, sim_call, wait_cdr

pytestmark = pytest.mark.integration
PROVIDERS = [name for name, p in REGISTRY.items() if not p.capabilities.one_message]
"""Providers with live calls (Infobip's one-message calls: tests/integration/test_infobip.py)."""
ROUTES = yaml.safe_load((REPO / "flows" / "routes.yaml").read_text())
IVR = {p: next(number for number, flow in ROUTES[p].items() if flow == "ivr") for p in PROVIDERS}
"""The number each provider routes to the IVR flow (flows/routes.yaml)."""


def number() -> str:
    return f"+2547{uuid.uuid4().int % 10**8:08d}"


async def outbound_survey(stack, http, provider: str, digits: list[str]) -> tuple[dict, dict]:
    phone = number()
    await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": "answer", "digits": digits})
    r = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers=auth(stack),
        json={"to": phone, "flow": "survey", "provider": provider},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    session_id = body["call_key"].split(":", 1)[1]
    call = await sim_call(http, stack, session_id)
    return call, await wait_cdr(stack, body["call_key"])


async def inbound_ivr(stack, http, provider: str, digits: list[str]) -> tuple[dict, dict]:
    r = await http.post(
        f"{stack.config.sim_url}/sim/{provider}/inbound",
        json={"caller": number(), "to": IVR[provider], "digits": digits},
    )
    session_id = r.json()["session_id"]
    call = await sim_call(http, stack, session_id)
    return call, await wait_cdr(stack, f"{provider}:{session_id}")


def inputs(row: dict) -> dict:
    value = row["inputs"]
    return orjson.loads(value) if isinstance(value, str) else value


async def test_survey_is_the_same_on_every_provider(stack, http):
    results = {p: await outbound_survey(stack, http, p, ["8", "4"]) for p in PROVIDERS}
    at_call, at_row = results["africastalking"]
    for provider in PROVIDERS:
        call, row = results[provider]
        assert call["errors"] == [], provider
        assert says(call) == says(at_call), provider  # the caller hears the same words
        assert inputs(row) == {"rating": "4"}, provider
        assert (row["status"], row["direction"], row["flow_id"]) == ("completed", "outbound", "survey")
        assert orjson.loads(row["session_data"]) == {"tries": "1"}
        assert abs(row["duration_s"] - at_row["duration_s"]) <= 2, provider


@pytest.mark.parametrize("digits", [["1"], ["7", "2"], ["9", "1"]])
async def test_ivr_is_the_same_on_every_provider(stack, http, digits):
    results = {p: await inbound_ivr(stack, http, p, digits) for p in PROVIDERS}
    at_call, at_row = results["africastalking"]
    for provider in PROVIDERS:
        call, row = results[provider]
        assert call["errors"] == [], provider
        assert says(call) == says(at_call), provider
        assert inputs(row) == inputs(at_row), provider
        assert row["status"] == "completed", provider
        assert abs(row["duration_s"] - at_row["duration_s"]) <= 2, provider


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_unanswered_calls_classify_alike(stack, http, provider):
    for answer, status in (("busy", "busy"), ("no-answer", "no-answer")):
        phone = number()
        await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": answer})
        r = await http.post(
            f"{stack.config.api_url}/v1/calls",
            headers=auth(stack),
            json={"to": phone, "flow": "survey", "provider": provider},
        )
        row = await wait_cdr(stack, r.json()["call_key"])
        assert (row["status"], row["duration_s"]) == (status, 0)


async def test_forged_telesign_signature_is_refused(stack, http):
    import base64
    import hashlib
    import hmac

    from switchboard_devstack.stack import TS_SIM_KEY

    raw = orjson.dumps(
        {"event": "incoming_call", "reference_id": "F" * 32, "data": {"to": "15550000920", "from": "15550000001"}}
    )
    good = base64.b64encode(hmac.new(base64.b64decode(TS_SIM_KEY), raw, hashlib.sha256).digest()).decode()
    url = stack.config.ts_callback_url
    r = await http.post(
        url, content=raw, headers={"Content-Type": "application/json", "X-TS-Authorization": "A" + good[1:]}
    )
    assert r.status_code == 401 and "signature" in r.json()["detail"]
    r = await http.post(url, content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    r = await http.post(
        url, content=raw, headers={"Content-Type": "application/json", "Authorization": f"TSA SIM-CUSTOMER-0001:{good}"}
    )
    assert r.status_code == 200 and r.json()["method"] == "speak"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_voice_otp_on_every_provider(stack, http, provider):
    phone = number()
    await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": "answer", "digits": ["1", "5"]})
    r = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers=auth(stack),
        json={"to": phone, "flow": "otp", "provider": provider, "session_data": {"code": "4721"}},
    )
    assert r.status_code == 200, r.text
    call = await sim_call(http, stack, r.json()["call_key"].split(":", 1)[1])
    assert says(call).count("Your code is 4, 7, 2, 1. Again: 4, 7, 2, 1.") == 2 and says(call)[-1] == "Goodbye."
    row = await wait_cdr(stack, r.json()["call_key"])
    assert inputs(row) == {"repeat": "5"} and row["status"] == "completed"


@pytest.mark.parametrize(
    ("flow", "provider", "message"),
    [
        ("agent-queue", "telesign", "Telesign cannot carry out QUEUE"),
        ("business-hours", "telesign", "Telesign cannot carry out RECORD"),
        ("agent-dequeue", "voxology", "Voxology cannot carry out DEQUEUE"),
    ],
)
async def test_flows_a_provider_cannot_run_are_refused_before_the_call(stack, http, flow, provider, message):
    r = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers=auth(stack),
        json={"to": number(), "flow": flow, "provider": provider},
    )
    assert r.status_code == 422 and r.json()["field"] == "flow"
    assert any(message in p["message"] and p["pointer"].startswith("/actions/") for p in r.json()["problems"])


async def test_unknown_flow_is_refused(stack, http):
    r = await http.post(
        f"{stack.config.api_url}/v1/calls", headers=auth(stack), json={"to": number(), "flow": "no-such-flow"}
    )
    assert r.status_code == 422 and "no flow named" in r.json()["detail"]


@pytest.mark.parametrize("provider", ["africastalking", "voxology"])
async def test_queue_and_voicemail_flows_where_the_provider_can(stack, http, provider):
    """agent-queue (QUEUE) and business hours when closed (RECORD) run on the providers whose
    capability tables have them; on Telesign they are refused before the call (test above)."""
    text = (stack.config.flows_dir / "business-hours.yaml").read_text()
    closed = text.replace("name: business-hours", "name: closed-office").replace(
        'opens: "8"\n      closes: "17"', 'opens: "0"\n      closes: "0"'
    )
    (stack.config.flows_dir / "closed-office.yaml").write_text(closed)
    queue_no, closed_no = {
        "africastalking": ("+254711000301", "+254711000341"),
        "voxology": ("+15550000301", "+15550000341"),
    }[provider]
    from .test_flows import add_routes

    await add_routes(stack, {closed_no: "closed-office"}, provider=provider)
    r = await http.post(f"{stack.config.sim_url}/sim/{provider}/inbound", json={"caller": number(), "to": closed_no})
    call = await sim_call(http, stack, r.json()["session_id"])
    assert any(t["kind"] == "record" for t in call["transcript"])
    assert says(call)[-1] == "Thank you. We will call you back. Goodbye."
    row = await wait_cdr(stack, f"{provider}:{call['session_id']}")
    assert row["recordings"] not in ("[]", [])
    r = await http.post(
        f"{stack.config.sim_url}/sim/{provider}/inbound",
        json={"caller": number(), "to": queue_no, "hangup_after_s": 30},
    )
    call = await sim_call(http, stack, r.json()["session_id"])
    assert [t["name"] for t in call["transcript"] if t["kind"] == "enqueue"] == ["support"]
