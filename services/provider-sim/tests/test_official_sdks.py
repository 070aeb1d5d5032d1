"""The providers' official Python SDKs, as published on PyPI, driven against the simulator (issue 9).

- ``africastalking`` 2.0.3: every voice method the SDK has (``call``, ``fetch_queued_calls``,
  ``media_upload``). The SDK hard-codes its hosts (``voice.sandbox.africastalking.com`` for username
  ``sandbox``, ``voice.africastalking.com`` otherwise), so ``wire`` routes requests for those hosts
  to the simulator and records which host the SDK chose.
- ``telesign`` 4.1.1: a ``/v2/voice`` dial through the SDK's generic ``RestClient`` with its default
  HMAC "TSA" digest (JSON fields, and a raw body whose string to sign has no body) and with Basic;
  its ``verify_telesign_callback_signature`` accepting the simulator's events in the SDK form.

Only the simulator runs (in this process, on a free port): no ``integration`` marker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import africastalking
import httpx
import orjson
import pytest
import requests
from africastalking.Service import AfricasTalkingException
from africastalking.Voice import VoiceService
from sim_server import AT_KEY, TS_CUSTOMER, TS_KEY, RunningSim, running_sim
from telesign.rest import RestClient
from telesign.util import AuthMethod, verify_telesign_callback_signature

from switchboard.providers.africastalking import AfricasTalkingClient
from switchboard.providers.telesign import verify_signature

AT_NUMBER = "+254711000100"
XML = '<?xml version="1.0" encoding="UTF-8"?><Response>{}</Response>'


@dataclass
class Sent:
    method: str
    url: str  # as the SDK addressed it, before any rerouting
    headers: dict[str, str]
    body: bytes | None


class Wire:
    """What the SDKs put on the wire; requests to Africa's Talking hosts go to ``sim`` instead."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.sim: RunningSim | None = None

    def hosts(self) -> list[str]:
        return [urlsplit(s.url).netloc for s in self.sent]


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[Wire]:
    recorder = Wire()
    real_send = requests.adapters.HTTPAdapter.send

    def send(self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        recorder.sent.append(Sent(str(request.method), str(request.url), dict(request.headers), body))
        parts = urlsplit(str(request.url))
        if (parts.hostname or "").endswith("africastalking.com"):
            assert recorder.sim is not None, "no simulator to route Africa's Talking to"
            sim = urlsplit(recorder.sim.url)
            request.url = urlunsplit((sim.scheme, sim.netloc, parts.path, parts.query, ""))
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    yield recorder


@pytest.fixture
def at_sim(wire: Wire) -> Iterator[RunningSim]:
    with running_sim() as sim:
        wire.sim = sim
        yield sim


def wait_for(predicate: Any, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# --- Africa's Talking -----------------------------------------------------------------------------


def test_the_sdk_has_exactly_the_voice_methods_tested_here():
    """If a later SDK adds a voice method, this suite must grow with it."""
    public = {name for name in vars(VoiceService) if not name.startswith("_")}
    assert public == {"call", "fetch_queued_calls", "media_upload"}


@pytest.mark.filterwarnings("ignore:Sandbox is currently not available:UserWarning")  # the SDK's WhatsApp service
def test_at_call_on_the_sandbox_host_the_sdk_and_our_client_agree_on(at_sim, wire):
    africastalking.initialize("sandbox", AT_KEY)
    answer = africastalking.Voice.call(callFrom=AT_NUMBER, callTo=["+254700000001", "+254700000002"])
    assert answer["errorMessage"] == "None"
    assert [(e["phoneNumber"], e["status"]) for e in answer["entries"]] == [
        ("+254700000001", "Queued"),
        ("+254700000002", "Queued"),
    ]
    for entry in answer["entries"]:
        assert at_sim.call(entry["sessionId"])["destination_number"] == AT_NUMBER
    (sent,) = wire.sent
    assert urlsplit(sent.url).path == "/call" and sent.headers["apiKey"] == AT_KEY
    # africastalking.md §8: username sandbox → the sandbox host, as our client derives it too
    assert sent.url.startswith(AfricasTalkingClient(None, "sandbox", AT_KEY).base_url + "/")
    assert urlsplit(sent.url).hostname == "voice.sandbox.africastalking.com"
    at_sim.wait_idle()


def test_at_call_on_the_live_host_for_any_other_username(wire):
    with running_sim(at_username="acme-ke") as sim:
        wire.sim = sim
        answer = VoiceService("acme-ke", AT_KEY).call(callFrom=AT_NUMBER, callTo=["+254700000003"])
        assert answer["entries"][0]["status"] == "Queued"
        assert wire.hosts() == [urlsplit(AfricasTalkingClient(None, "acme-ke", AT_KEY).base_url).netloc]
        assert wire.hosts() == ["voice.africastalking.com"]
        sim.wait_idle()


def test_at_call_with_a_wrong_key_raises_the_sdk_error(at_sim):
    with pytest.raises(AfricasTalkingException, match="authentication is invalid"):
        VoiceService("sandbox", "wrong-key").call(callFrom=AT_NUMBER, callTo=["+254700000001"])


def test_at_fetch_queued_calls_sees_a_caller_waiting(wire):
    with running_sim(queue_patience_s=1_000_000.0) as sim:
        wire.sim = sim
        sim.at_reply = lambda fields: XML.format('<Say>Please hold.</Say><Enqueue name="support"/>')
        body = {"caller": "+254700000009", "to": AT_NUMBER}
        sid = httpx.post(f"{sim.url}/sim/inbound", json=body).raise_for_status().json()["session_id"]
        wait_for(lambda: any(t["kind"] == "enqueue" for t in sim.call(sid)["transcript"]))
        answer = VoiceService("sandbox", AT_KEY).fetch_queued_calls(phone_number=AT_NUMBER)
        assert answer["status"] == "Success" and answer["errorMessage"] == "None"
        assert answer["entries"] == [{"phoneNumber": AT_NUMBER, "queueName": "support", "numCalls": 1}]
        empty = VoiceService("sandbox", AT_KEY).fetch_queued_calls(phone_number="+254711000999")
        assert empty["entries"] == []
        assert [urlsplit(s.url).path for s in wire.sent] == ["/queueStatus", "/queueStatus"]


def test_at_media_upload_answers_what_the_sdk_expects(at_sim, wire):
    voice = VoiceService("sandbox", AT_KEY)
    answer = voice.media_upload(phone_number=AT_NUMBER, url="https://media.example.test/hold.mp3")
    # africastalking.md §8: the SDK's test expects {"success": true}; the docs give status Success
    assert answer["success"] is True and answer["status"] == "Success"
    assert httpx.get(f"{at_sim.url}/sim/stats").json()["media"] == ["https://media.example.test/hold.mp3"]
    with pytest.raises(AfricasTalkingException, match=r"\.mp3 or \.wav"):
        voice.media_upload(phone_number=AT_NUMBER, url="https://media.example.test/hold.ogg")


# --- Telesign -------------------------------------------------------------------------------------

DIAL = {
    "jsonrpc": "2.0",
    "method": "dial",
    "params": {"to": "15550000002", "caller_id_number": "15550000100", "external_id": "order-7781"},
}


def script_answer(sim: RunningSim, number: str) -> None:
    httpx.put(f"{sim.url}/sim/phones/{number}", json={"answer": "answer", "talk_s": 2}).raise_for_status()


@pytest.mark.parametrize(
    ("auth_method", "body_kind", "scheme"),
    [
        (None, "json_fields", "TSA"),  # the SDK's default: HMAC digest over the JSON text
        (None, "body", "TSA"),  # a raw body: the SDK signs an empty body field (spec §2)
        (AuthMethod.BASIC.value, "json_fields", "Basic"),
    ],
)
def test_telesign_rest_client_dials(wire, auth_method, body_kind, scheme):
    with running_sim() as sim:
        script_answer(sim, "+15550000002")
        client = RestClient(TS_CUSTOMER, TS_KEY, rest_endpoint=sim.url, auth_method=auth_method)
        resp = client.post("/v2/voice", **{body_kind: DIAL})
        assert resp.status_code == 202, resp.body
        assert resp.json["status"] == "dial_accepted" and resp.json["external_id"] == "order-7781"
        call = sim.call(resp.json["reference_id"])
        assert call["client_request_id"] == "order-7781" and call["caller_number"] == "+15550000002"
        (sent,) = wire.sent
        assert sent.headers["Authorization"].startswith(f"{scheme} ")
        if scheme == "TSA":
            assert sent.headers["x-ts-auth-method"] == "HMAC-SHA256" and sent.headers["x-ts-nonce"]
            assert sent.headers["Date"].endswith("GMT")
        sim.wait_idle()


@pytest.mark.parametrize("auth_method", [None, AuthMethod.BASIC.value])
def test_telesign_rest_client_with_a_wrong_key_gets_401(auth_method):
    with running_sim() as sim:
        client = RestClient(TS_CUSTOMER, "d3Jvbmcta2V5", rest_endpoint=sim.url, auth_method=auth_method)
        resp = client.post("/v2/voice", json_fields=DIAL)
        assert resp.status_code == 401 and resp.json == {"status": "not_authorized"}


def test_telesign_callback_helper_accepts_the_simulator_s_events_in_the_sdk_form(wire):
    with running_sim(ts_signature_form="sdk") as sim:
        script_answer(sim, "+15550000002")
        speak = {"method": "speak", "params": {"tts": {"message": "Your code is 4 2 7."}}}
        sim.ts_reply = lambda event: speak if event["event"] == "dial_completed" else {"method": "hangup"}
        resp = RestClient(TS_CUSTOMER, TS_KEY, rest_endpoint=sim.url).post("/v2/voice", json_fields=DIAL)
        assert resp.status_code == 202
        sim.wait_idle()
        events = [h for h in sim.received if h.path == "/hooks/telesign"]
        names = [orjson.loads(h.raw)["event"] for h in events]
        assert names[0] == "dial_completed" and names[-1] == "call_completed" and "speak_completed" in names
        for hooked in events:
            assert verify_telesign_callback_signature(TS_KEY, hooked.headers["authorization"], hooked.raw.decode())
            assert not verify_telesign_callback_signature(TS_KEY, hooked.headers["authorization"], "{}")
            assert verify_signature(TS_KEY, hooked.raw, hooked.headers)  # and the ingress accepts it


def test_telesign_default_form_needs_x_ts_authorization_for_the_sdk_helper():
    """Why the SDK form exists: the helper compares a whole header with the bare signature, so it
    refuses ``Authorization: TSA <customer_id>:<sig>`` and accepts ``X-TS-Authorization`` (§5)."""
    with running_sim() as sim:
        httpx.post(f"{sim.url}/sim/telesign/inbound", json={"caller": "+15550000001", "to": "+15550000100"})
        sim.wait_idle()
        events = [h for h in sim.received if h.path == "/hooks/telesign"]
        assert events
        for hooked in events:
            raw = hooked.raw.decode()
            assert not verify_telesign_callback_signature(TS_KEY, hooked.headers["authorization"], raw)
            assert verify_telesign_callback_signature(TS_KEY, hooked.headers["x-ts-authorization"], raw)
            assert verify_signature(TS_KEY, hooked.raw, hooked.headers)
