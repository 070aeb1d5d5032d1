"""The ingress as Africa's Talking sees it: the documented form notifications, bad input,
duplicates, and the original /voice/* endpoints."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree as ET

import orjson
import pytest
import redis.asyncio as aioredis

from switchboard.redis import call_state_key
from switchboard.testing import at_callback, at_final
from switchboard.topics import Topic

from .helpers import read_topic, wait_cdr

pytestmark = pytest.mark.integration
IVR = "+254711000200"


def parse(body: bytes) -> ET.Element:
    root = ET.fromstring(body)
    assert root.tag == "Response"
    return root


async def test_live_callbacks_get_xml_and_final_gets_empty_200(stack, http):
    sid = f"ATVId_{uuid.uuid4().hex}"
    url = stack.config.callback_url
    r = await http.post(url, data=at_callback(sid))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    root = parse(r.content)
    assert [el.tag for el in root] == ["Say", "GetDigits", "Redirect"]
    digits_url = root[1].get("callbackUrl")
    assert urlsplit(digits_url).path == urlsplit(stack.config.callback_url).path and "step=0" in digits_url
    # the provider posts the digits to the GetDigits callbackUrl
    r = await http.post(digits_url, data=at_callback(sid, dtmfDigits="1"))
    assert [el.text for el in parse(r.content)] == ["Your account balance is 1,250 shillings. Goodbye."]
    r = await http.post(
        url,
        data=at_final(
            sid,
            dialDestinationNumber="+254700000010",
            dialDurationInSeconds="20",
            dialStartTime="2024-05-06+09:30:20",
            recordingUrl="https://media.example.test/dial.mp3",
        ),
    )
    assert r.status_code == 200 and r.content == b""
    row = await wait_cdr(stack, f"africastalking:{sid}")
    assert row["status"] == "completed" and row["duration_s"] == 48 and str(row["cost"]) == "4.8000"
    assert "https://media.example.test/dial.mp3" in str(row["recordings"])
    assert "1" in str(row["inputs"])


async def test_final_without_dial_and_events_url(stack, http):
    sid = f"ATVId_{uuid.uuid4().hex}"
    r = await http.post(stack.config.events_url, data={**at_callback(sid), "callSessionState": "Ringing"})
    assert r.status_code == 200 and r.text == "OK"
    r = await http.post(stack.config.callback_url, data=at_final(sid))
    assert r.status_code == 200 and r.content == b""
    row = await wait_cdr(stack, f"africastalking:{sid}")
    assert row["status"] == "completed" and row["flow_id"] is None  # never ran a flow


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"isActive": "1"}, "sessionId"),
        ({**at_callback("ATVId_bad"), "isActive": "yes"}, "isActive"),
        ({**at_callback("ATVId_bad"), "direction": "Sideways"}, "direction"),
        # live only: a final notification with a bad field still lands (test_field_bounds)
        ({**at_callback("ATVId_bad"), "durationInSeconds": "forty"}, "durationInSeconds"),
    ],
)
async def test_malformed_callbacks_get_400_naming_the_field(stack, http, data, field):
    for url in (stack.config.callback_url, stack.config.events_url):
        r = await http.post(url, data=data)
        assert r.status_code == 400 and r.json()["field"] == field and field in r.json()["detail"]


async def test_non_form_body_is_415(stack, http):
    r = await http.post(stack.config.callback_url, json=at_callback("ATVId_json"))
    assert r.status_code == 415 and "form" in r.json()["detail"]


async def test_repeated_callbacks_have_one_effect(stack, http):
    sid = f"ATVId_{uuid.uuid4().hex}"
    url = stack.config.callback_url
    first = await http.post(url, data=at_callback(sid))
    digits_url = parse(first.content)[1].get("callbackUrl")
    # the same digits notification three times, two of them at once
    a, b = await asyncio.gather(
        http.post(digits_url, data=at_callback(sid, dtmfDigits="9")),
        http.post(digits_url, data=at_callback(sid, dtmfDigits="9")),
    )
    c = await http.post(digits_url, data=at_callback(sid, dtmfDigits="9"))
    assert a.content == b.content == c.content
    assert "menu" in parse(a.content)[0][0].text  # the menu again, once
    redis = aioredis.from_url(stack.config.redis_url)
    state = orjson.loads(await redis.get(call_state_key(f"africastalking:{sid}")))
    await redis.aclose()
    assert state["reply_seq"] == 2 and state["collected"] == {"menu": "9"}
    # the final notification on both URLs (and the original /voice/* alias, with Basic auth), twice each
    alias = (f"{stack.config.ingress_url}/voice/instruct", {"auth": ("at", stack.config.callback_secret)})
    for url, kw in [(stack.config.callback_url, {}), (stack.config.events_url, {}), alias] * 2:
        r = await http.post(url, data=at_final(sid, clientRequestId="x"), **kw)
        assert r.status_code == 200
    await wait_cdr(stack, f"africastalking:{sid}")
    key = f"africastalking:{sid}".encode()
    assert len(await read_topic(stack, Topic.SESSIONS_ENDED.value, key=key)) == 1
    events = await read_topic(stack, Topic.CALL_EVENTS.value, key=key)
    assert len(events) == 3  # start, digits, final: each once


async def test_seed_001_endpoints(stack, http, api):
    """The seed's API lives on in the api service, behind a key; the ingress serves callbacks only."""
    assert (await api.get("/voice/")).json() == {"service": "voice", "status": "ready"}
    r = await api.get("/voice/invoke-call")
    assert r.status_code == 400 and "phone" in r.json()["detail"]
    r = await api.get("/voice/invoke-call", params={"phone": "12345"})
    assert r.status_code == 400 and "not a valid phone number" in r.json()["detail"]
    assert {"/voice/", "/voice/invoke-call"} <= set((await api.get("/openapi.json")).json()["paths"])
    ingress = stack.config.ingress_url
    spec = (await http.get(f"{ingress}/openapi.json")).json()
    assert {"/voice/instruct", "/voice/events"} <= set(spec["paths"])
    assert not any(path.startswith(("/v1/", "/voice/invoke-call")) or path == "/voice/" for path in spec["paths"])
    assert (await http.get(f"{ingress}/voice/invoke-call", params={"phone": "254700000001"})).status_code == 404
    assert (await http.get(f"{ingress}/docs")).status_code == 200


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


@pytest.mark.parametrize(
    "path",
    [
        "/voice/instruct",
        "/voice/events",
        "/providers/africastalking/callback",
        "/providers/africastalking/events",
        "/providers/africastalking/t/wrong-token/callback",
        "/providers/africastalking/t/wrong-token/events",
    ],
)
async def test_callbacks_without_the_secret_get_403(stack, http, path):
    r = await http.post(f"{stack.config.ingress_url}{path}", data=at_callback("ATVId_guard"))
    assert r.status_code == 403 and "secret" in r.json()["detail"]
    r = await http.post(
        f"{stack.config.ingress_url}{path}", data=at_callback("ATVId_guard"), auth=("at", "not-the-secret")
    )
    assert r.status_code == 403


async def test_seed_aliases_pass_with_basic_auth(stack, http):
    r = await http.post(
        f"{stack.config.ingress_url}/voice/instruct",
        data=at_callback(f"ATVId_{uuid.uuid4().hex}"),
        auth=("africastalking", stack.config.callback_secret),
    )
    assert r.status_code == 200 and parse(r.content)[0].text == "Welcome to Switchboard Bank."


async def test_source_ip_allow_list(stack):
    import httpx

    from switchboard_ingress.app import build_app
    from switchboard_ingress.settings import IngressSettings

    settings = IngressSettings(
        kafka_bootstrap=stack.config.kafka_bootstrap,
        redis_url=stack.config.redis_url,
        callback_secret=stack.config.callback_secret,
        callback_allow_ips=["10.0.0.0/8"],
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as client:
            r = await client.post(
                f"/providers/africastalking/t/{stack.config.callback_secret}/callback", data=at_callback("ATVId_ip")
            )
            assert r.status_code == 403 and "SB_CALLBACK_ALLOW_IPS" in r.json()["detail"]
