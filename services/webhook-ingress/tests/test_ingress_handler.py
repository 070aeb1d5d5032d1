"""The webhook-ingress's real ``build_app(settings)`` on FastStream's in-memory broker with a real
Redis: a provider callback in, a ``CallEvent`` published (and, with the flow-runner's app on the
same in-memory broker, the flow's rendered reply out)."""

from __future__ import annotations

import uuid
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest

from switchboard.events import CallEvent, CallEventType, Direction, decode
from switchboard.testing import at_callback, at_final, said_in_at_xml
from switchboard.topics import Topic
from switchboard_devstack.testing import Bus
from switchboard_flow_runner.app import build_app as build_runner
from switchboard_flow_runner.settings import FlowRunnerSettings
from switchboard_ingress.app import build_app
from switchboard_ingress.settings import IngressSettings

FLOWS = Path(__file__).resolve().parents[3] / "flows"
SECRET = "test-secret-0123456789abcdef"
CALLBACK = f"/providers/africastalking/t/{SECRET}/callback"


@pytest.fixture
def ingress(memory_bus: Bus, redis_server):
    settings = IngressSettings(
        kafka_bootstrap=memory_bus.bootstrap,
        redis_url=redis_server.redis_url,
        flows_dir=FLOWS,
        callback_secret=SECRET,
        reply_timeout_s=0.3,
        log_level="WARNING",
    )
    return build_app(settings)


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sb.test")


def session_id() -> str:
    return f"ATVId_{uuid.uuid4().hex}"


async def published(bus: Bus) -> list[CallEvent]:
    return [decode(CallEvent, r.value) for r in await bus.published(Topic.CALL_EVENTS.value)]


async def test_a_live_callback_is_published_as_a_call_event(memory_bus, ingress, redis):
    sid = session_id()
    async with memory_bus.running(ingress, capture=(Topic.CALL_EVENTS.value,)), client(ingress) as http:
        r = await http.post(CALLBACK, data=at_callback(sid))
        (event,) = await published(memory_bus)
        (record,) = await memory_bus.published(Topic.CALL_EVENTS.value)
    assert record.key == f"africastalking:{sid}".encode()  # keyed by call: one call stays on one partition
    assert (event.type, event.provider, event.call_key, event.session_id) == (
        CallEventType.CALL_STARTED,
        "africastalking",
        f"africastalking:{sid}",
        sid,
    )
    assert event.direction is Direction.INBOUND and event.expects_reply
    assert (event.caller_number, event.destination_number) == ("+254700000001", "+254711000200")
    # no flow-runner here: past the deadline the caller hears the hold prompt, not silence
    assert r.status_code == 200 and r.headers["x-switchboard-fallback"] == "1"
    assert said_in_at_xml(r.content) == ["Please hold."]


async def test_the_end_of_a_call_is_published_and_acknowledged_at_once(memory_bus, ingress, redis):
    sid = session_id()
    async with memory_bus.running(ingress, capture=(Topic.CALL_EVENTS.value,)), client(ingress) as http:
        r = await http.post(CALLBACK, data=at_final(sid))
        (event,) = await published(memory_bus)
    assert r.status_code == 200 and "x-switchboard-fallback" not in r.headers
    assert event.type is CallEventType.CALL_ENDED and not event.expects_reply
    assert (event.duration_s, event.currency, str(event.cost)) == (48, "KES", "4.800")


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"isActive": "1"}, "sessionId"),
        (at_callback("ATVId_bad", isActive="yes"), "isActive"),
        (at_callback("ATVId_bad", direction="Sideways"), "direction"),
        (at_callback("ATVId_bad", durationInSeconds="forty"), "durationInSeconds"),  # an end of call is never refused
    ],
)
async def test_a_bad_callback_gets_400_naming_the_field_and_publishes_nothing(memory_bus, ingress, redis, form, field):
    async with memory_bus.running(ingress, capture=(Topic.CALL_EVENTS.value,)), client(ingress) as http:
        r = await http.post(CALLBACK, data=form)
        assert await published(memory_bus) == []
    assert r.status_code == 400 and r.json()["field"] == field and field in r.text


async def test_a_duplicate_callback_is_published_once(memory_bus, ingress, redis):
    sid = session_id()
    async with memory_bus.running(ingress, capture=(Topic.CALL_EVENTS.value,)), client(ingress) as http:
        for _ in range(2):
            await http.post(CALLBACK, data=at_final(sid))
        assert len(await published(memory_bus)) == 1


async def test_with_the_flow_runner_the_caller_hears_the_flow(memory_bus, ingress, redis_server, redis):
    """Ingress and flow-runner on one in-memory broker: the whole synchronous round trip of
    ARCHITECTURE §4 (publish, run the flow, reply through Redis) without a broker process."""
    runner = build_runner(
        FlowRunnerSettings(
            kafka_bootstrap=memory_bus.bootstrap,
            redis_url=redis_server.redis_url,
            flows_dir=FLOWS,
            callback_url=f"http://sb.test{CALLBACK}",
            log_level="WARNING",
        )
    )
    sid = session_id()
    async with memory_bus.running(ingress, runner), client(ingress) as http:
        menu = await http.post(CALLBACK, data=at_callback(sid))
        get_digits = ET.fromstring(menu.content).find("GetDigits")
        assert get_digits is not None
        answer = await http.post(get_digits.get("callbackUrl", ""), data=at_callback(sid, dtmfDigits="1"))
    assert "x-switchboard-fallback" not in menu.headers
    assert said_in_at_xml(menu.content)[0] == "Welcome to Switchboard Bank."
    assert said_in_at_xml(answer.content) == ["Your account balance is 1,250 shillings. Goodbye."]
