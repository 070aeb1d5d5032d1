"""The simulator's side of the wire formats the official SDKs use (issue 9): AT ``<Say>…</Say>
<Reject/>`` and ``callBackUrl`` (africastalking.md §4, §8); Telesign's HMAC "TSA" REST digest (§2)
and the SDK's callback-signature form (§5). Calls run for real against a recording platform."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal
from email.utils import formatdate

import httpx
import orjson
import pytest
from sim_server import TS_CUSTOMER, TS_KEY, RunningSim, running_sim

from switchboard.providers.telesign import TelesignClient, verify_signature
from switchboard_provider_sim.telesign.gateway import authorized

XML = '<?xml version="1.0" encoding="UTF-8"?><Response>{}</Response>'


def inbound(sim: RunningSim, **script: object) -> str:
    body = {"caller": "+254700000001", "to": "+254711000100", **script}
    return str(httpx.post(f"{sim.url}/sim/inbound", json=body).raise_for_status().json()["session_id"])


def test_say_then_reject_speaks_then_ends_the_call_billed(sim):
    sim.at_reply = lambda f: XML.format("<Say>Your balance is 120 shillings.</Say><Reject/><Say>never heard</Say>")
    sid = inbound(sim)
    sim.wait_idle()
    call = sim.call(sid)
    assert call["errors"] == []
    assert [(t["kind"], t.get("text")) for t in call["transcript"]] == [
        ("say", "Your balance is 120 shillings."),
        ("reject", None),
        ("end", None),
    ]
    final = sim.at_final(sid)
    # spec §8: the elements before it ran, so the call was answered and is billed for its time
    assert final["hangupCause"] == "CALL_REJECTED" and final["callStartTime"] != "None"
    assert int(final["durationInSeconds"]) > 0 and Decimal(final["amount"]) > 0


def test_reject_alone_refuses_without_charge(sim):
    sim.at_reply = lambda f: XML.format("<Reject/>")
    sid = inbound(sim)
    sim.wait_idle()
    final = sim.at_final(sid)
    assert final["hangupCause"] == "CALL_REJECTED" and final["callStartTime"] == "None"
    assert final["durationInSeconds"] == "0" and Decimal(final["amount"]) == 0


def test_callbackurl_in_either_casing_receives_the_result(sim):
    """GetDigits ``callBackUrl`` (the Python action builder's spelling) and Record ``callbackUrl``
    (the docs') both redirect the result notification (spec §8)."""

    def reply(fields: dict[str, str]) -> str:
        if "dtmfDigits" in fields:
            prompt = "<Say>Leave a message.</Say>"
            return XML.format(f'<Record maxLength="2" callBackUrl="{sim.url}/hooks/at/record">{prompt}</Record>')
        if "recordingUrl" in fields:
            return XML.format("<Say>Thank you.</Say>")
        prompt = "<Say>Press 1.</Say>"
        return XML.format(f'<GetDigits numDigits="1" callBackUrl="{sim.url}/hooks/at/digits">{prompt}</GetDigits>')

    sim.at_reply = reply
    sid = inbound(sim, digits=["1"])
    sim.wait_idle()
    assert sim.call(sid)["errors"] == []
    seen = [(h.path, h.form.get("dtmfDigits"), bool(h.form.get("recordingUrl"))) for h in sim.received]
    assert seen[:3] == [("/hooks/at", None, False), ("/hooks/at/digits", "1", False), ("/hooks/at/record", None, True)]


# --- Telesign -------------------------------------------------------------------------------------


def tsa_headers(body: str, *, sign_body: bool = True, key: str = TS_KEY, customer: str = TS_CUSTOMER) -> dict[str, str]:
    """A TSA digest written out from spec §2 by hand, independently of the simulator and the SDK."""
    date, nonce = formatdate(usegmt=True), "0d2ec4a4-5b0c-4c4a-9a8e-2f7f3f1b9c11"
    lines = ["POST", "application/json", date, "x-ts-auth-method:HMAC-SHA256", f"x-ts-nonce:{nonce}"]
    lines += [body] if sign_body else []
    lines.append("/v2/voice")
    sig = base64.b64encode(hmac.new(base64.b64decode(key), "\n".join(lines).encode(), hashlib.sha256).digest())
    return {
        "authorization": f"TSA {customer}:{sig.decode()}",
        "date": date,
        "content-type": "application/json",
        "x-ts-auth-method": "HMAC-SHA256",
        "x-ts-nonce": nonce,
    }


BODY = '{"method":"dial","params":{"to":"15550000002","caller_id_number":"15550000100"}}'


@pytest.mark.parametrize(
    ("headers", "ok"),
    [
        (tsa_headers(BODY), True),
        (tsa_headers(BODY, sign_body=False), True),  # the SDK's raw-body form leaves the body out
        ({"authorization": "Basic " + base64.b64encode(f"{TS_CUSTOMER}:{TS_KEY}".encode()).decode()}, True),
        ({"authorization": "Basic " + base64.b64encode(f"{TS_CUSTOMER}:wrong".encode()).decode()}, False),
        (tsa_headers(BODY, key=base64.b64encode(b"another key").decode()), False),
        (tsa_headers(BODY, customer="SOMEONE-ELSE"), False),
        ({**tsa_headers(BODY), "x-ts-nonce": "a-different-nonce"}, False),
        ({k: v for k, v in tsa_headers(BODY).items() if k != "date"}, False),
        ({}, False),
    ],
)
def test_rest_auth_basic_and_tsa_digest(headers, ok):
    assert authorized(TS_CUSTOMER, TS_KEY, "POST", "/v2/voice", headers, BODY.encode()) is ok


def test_a_tampered_body_fails_the_digest():
    headers = tsa_headers(BODY)
    assert not authorized(TS_CUSTOMER, TS_KEY, "POST", "/v2/voice", headers, BODY.replace("0002", "0003").encode())


@pytest.mark.parametrize("auth_method", ["basic", "hmac"])
async def test_our_client_dials_with_either_auth(auth_method):
    with running_sim() as sim:
        client = TelesignClient(sim.url, TS_CUSTOMER, TS_KEY, auth_method=auth_method)
        try:
            result = await client.dial(to="+15550000002", caller_id="+15550000100", external_id="call-1")
        finally:
            await client.aclose()
        assert result.accepted and result.status == "dial_accepted" and result.reference_id
        assert sim.call(result.reference_id)["client_request_id"] == "call-1"
        wrong = TelesignClient(sim.url, TS_CUSTOMER, base64.b64encode(b"x").decode(), auth_method=auth_method)
        try:
            refused = await wrong.dial(to="+15550000002", caller_id="+15550000100", external_id="call-2")
        finally:
            await wrong.aclose()
        assert not refused.accepted and refused.status == "not_authorized"


@pytest.mark.parametrize("form", ["tsa", "sdk"])
def test_events_are_signed_in_the_chosen_form(form):
    with running_sim(ts_signature_form=form) as sim:
        resp = httpx.post(f"{sim.url}/sim/telesign/inbound", json={"caller": "+15550000001", "to": "+15550000100"})
        sid = resp.raise_for_status().json()["session_id"]
        sim.wait_idle()
        events = [h for h in sim.received if h.path == "/hooks/telesign"]
        assert [orjson.loads(h.raw)["event"] for h in events] == ["incoming_call", "call_completed"]
        assert sim.call(sid)["errors"] == []
        for hooked in events:
            sig = base64.b64encode(hmac.new(base64.b64decode(TS_KEY), hooked.raw, hashlib.sha256).digest()).decode()
            if form == "sdk":  # telesign.md §5: the bare signature in one header
                assert hooked.headers["authorization"] == sig and "x-ts-authorization" not in hooked.headers
            else:
                assert hooked.headers["authorization"] == f"TSA {TS_CUSTOMER}:{sig}"
                assert hooked.headers["x-ts-authorization"] == sig
            assert verify_signature(TS_KEY, hooked.raw, hooked.headers)


def test_a_telesign_call_that_loops_past_the_event_cap_still_gets_call_completed():
    # the cap counted call_completed too, so the final event was never sent (the runner crashed)
    with running_sim(max_callbacks_per_call=4) as sim:
        sim.ts_reply = lambda event: {"method": "speak", "params": {"tts": {"message": "Again."}}}
        resp = httpx.post(f"{sim.url}/sim/telesign/inbound", json={"caller": "+15550000001", "to": "+15550000100"})
        sid = resp.raise_for_status().json()["session_id"]
        sim.wait_idle()
        names = [orjson.loads(h.raw)["event"] for h in sim.received if h.path == "/hooks/telesign"]
        assert names[-1] == "call_completed" and names.count("call_completed") == 1 and len(names) == 5
        assert sim.call(sid)["final_posted"] and "more than 4 events" in sim.call(sid)["errors"][0]
