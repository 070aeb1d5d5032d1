"""The flow-runner's real ``build_app(settings)`` on a broker (in memory, and on Tansu where offsets
matter) with a real Redis: a callback event in, a rendered reply and saved state out."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
import yaml

from switchboard.events import CallEventType, CallStatus, SessionEnded, decode, encode
from switchboard.redis import flow_doc_key
from switchboard.replies import stored_reply
from switchboard.state import StateStore
from switchboard.testing import event, said_in_at_xml
from switchboard.topics import Topic
from switchboard_devstack.testing import Bus, wait_for
from switchboard_flow_runner.app import GROUP_ID, build_app
from switchboard_flow_runner.settings import FlowRunnerSettings

FLOWS = Path(__file__).resolve().parents[3] / "flows"
OUTPUTS = (Topic.CALL_EVENTS.dlq, Topic.SESSIONS_ENDED.value, Topic.FLOW_ERRORS.value)


def runner_app(bus: Bus, redis_server, **settings):
    """The runner's app on ``bus`` and the test Redis, with the example flows unless told."""
    defaults = {"flows_dir": FLOWS, "callback_url": "https://sb.test/cb", "consumer_max_retries": 0}
    return build_app(
        FlowRunnerSettings(
            kafka_bootstrap=bus.bootstrap,
            redis_url=redis_server.redis_url,
            log_level="WARNING",
            **{**defaults, **settings},
        )
    )


@pytest.fixture
def runner(bus: Bus, redis_server):
    return runner_app(bus, redis_server)


async def reply_to(redis, e):
    """The reply the runner stored for event ``e`` (on Tansu it may take a moment)."""
    return await wait_for(lambda: stored_reply(redis, e.call_key, e.event_id), 30, 0.05)


async def deliver(bus: Bus, *events) -> None:
    for e in events:
        await bus.publish(Topic.CALL_EVENTS.value, encode(e), key=e.call_key.encode())


async def test_a_live_callback_gets_the_rendered_reply_and_the_state_is_saved(bus, runner, redis):
    started = event(expects_reply=True)  # an inbound call to the bank IVR's number
    async with bus.running(runner, capture=OUTPUTS):
        await deliver(bus, started)
        reply = await reply_to(redis, started)
        await bus.settled(GROUP_ID, Topic.CALL_EVENTS.value)  # committed after processing
    assert reply.content_type == "application/xml"
    assert said_in_at_xml(reply.body)[0] == "Welcome to Switchboard Bank."
    state = await StateStore(redis).load(started.call_key)
    assert state is not None and state.flow_ref == "ivr" and started.event_id in state.applied_events
    assert state.waiting is not None  # at the menu, waiting for a key


async def test_a_redelivered_event_is_applied_once(bus, runner, redis):
    started = event(expects_reply=True)
    async with bus.running(runner, capture=OUTPUTS):
        await deliver(bus, started)
        first = await reply_to(redis, started)
        saved = await StateStore(redis).load(started.call_key)
        await deliver(bus, started)  # the same record again, as after a crash before the commit
        await bus.settled(GROUP_ID, Topic.CALL_EVENTS.value)
    after = await StateStore(redis).load(started.call_key)
    assert await stored_reply(redis, started.call_key, started.event_id) == first  # the first answer stands
    assert saved is not None and after is not None and after.version == saved.version


async def test_a_poison_record_is_dead_lettered_and_the_next_one_served(bus, runner, redis):
    started = event(expects_reply=True)
    async with bus.running(runner, capture=OUTPUTS):
        await bus.publish(Topic.CALL_EVENTS.value, b'{"not": "a call event"}', key=started.call_key.encode())
        await deliver(bus, started)
        await reply_to(redis, started)
        await bus.settled(GROUP_ID, Topic.CALL_EVENTS.value)  # the poison record is committed past
        (dead,) = await bus.published(Topic.CALL_EVENTS.dlq)
    assert dead.value == b'{"not": "a call event"}' and dead.key == started.call_key.encode()
    assert dead.headers["x-error-class"] == "ValidationError"
    assert dead.headers["x-source-topic"] == Topic.CALL_EVENTS.value


async def test_the_end_of_a_call_publishes_its_cdr_event(memory_bus, redis_server, redis):
    started = event(expects_reply=True)
    ended = event(
        kind=CallEventType.CALL_ENDED, provider_status="Completed", hangup_cause="NORMAL_CLEARING", duration_s=7
    )
    async with memory_bus.running(runner_app(memory_bus, redis_server), capture=OUTPUTS):
        await deliver(memory_bus, started, ended)
        (record,) = await memory_bus.published(Topic.SESSIONS_ENDED.value)
    cdr = decode(SessionEnded, record.value)
    assert (cdr.call_key, cdr.flow_id, cdr.duration_s) == (started.call_key, "ivr", 7)
    assert cdr.status is CallStatus.COMPLETED
    state = await StateStore(redis).load(started.call_key)
    assert state is not None and state.status == "ended"


async def test_flows_refresh_loads_an_edit_at_once(memory_bus, redis_server, redis, tmp_path):
    """``POST /flows/refresh`` reads the folder now (no waiting out the 2 s reload interval); a
    broken edit is refused and the version before it stays current."""
    shutil.copytree(FLOWS, tmp_path / "flows")
    app = runner_app(memory_bus, redis_server, flows_dir=tmp_path / "flows")
    greet = {"name": "greet", "actions": [{"type": "SAY", "params": {"text": "Hello."}}]}
    routes = yaml.safe_load((tmp_path / "flows" / "routes.yaml").read_text())
    async with (
        memory_bus.running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as http,
    ):
        before = (await http.post("/flows/refresh")).json()
        (tmp_path / "flows" / "greet.yaml").write_text(yaml.safe_dump(greet))
        routes["africastalking"]["+254711000499"] = "greet"
        (tmp_path / "flows" / "routes.yaml").write_text(yaml.safe_dump(routes))
        after = (await http.post("/flows/refresh")).json()
        (tmp_path / "flows" / "greet.yaml").write_text("name: greet\nactions: [{type: SAYY}]\n")
        broken = (await http.post("/flows/refresh")).json()
    assert "greet" not in before["flows"]
    assert after["routes"]["africastalking"]["+254711000499"] == "greet" and "greet" in after["flows"]
    assert broken["flows"]["greet"] == after["flows"]["greet"]
    assert await redis.exists(flow_doc_key("greet", after["flows"]["greet"]))  # kept for the calls that start on it
