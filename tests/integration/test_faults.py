"""What happens when a part is slow or a message is bad: the caller still hears something, and
nothing is lost."""

from __future__ import annotations

import importlib.resources
import os
import signal
import uuid
from xml.etree import ElementTree as ET

import orjson
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from switchboard.events import SessionEnded, encode
from switchboard.redis import call_state_key
from switchboard.testing import at_callback
from switchboard.topics import Topic

from .helpers import cdr, read_topic, wait_cdr, wait_for

pytestmark = pytest.mark.integration


async def test_late_reply_gets_hold_and_redirect_then_the_real_reply(stack, http):
    pid = int((stack.run_dir / "flow-runner.pid").read_text())
    sid = f"ATVId_{uuid.uuid4().hex}"
    url = stack.config.callback_url
    os.kill(pid, signal.SIGSTOP)
    try:
        r = await http.post(url, data=at_callback(sid))
        assert r.status_code == 200 and r.headers.get("x-switchboard-fallback") == "1"
        root = ET.fromstring(r.content)
        assert [el.tag for el in root] == ["Say", "Redirect"] and root[0].text == "Please hold."
        again = root[1].text
        assert "fallback=1" in again
        r = await http.post(url + "?fallback=1", data=at_callback(sid))  # later holds: the hold tone
        root = ET.fromstring(r.content)
        assert [el.tag for el in root] == ["Play", "Redirect"] and "fallback=2" in root[1].text
        tone = await http.get(root[0].get("url"))
        assert tone.status_code == 200 and tone.headers["content-type"] == "audio/wav"
        r = await http.post(url + "?fallback=7", data=at_callback(sid))  # redirects are capped (12 s)
        root = ET.fromstring(r.content)
        assert [el.tag for el in root] == ["Say"] and "Sorry" in root[0].text
    finally:
        os.kill(pid, signal.SIGCONT)
    redis = aioredis.from_url(stack.config.redis_url)

    async def runner_caught_up():  # type: ignore[no-untyped-def]
        return await redis.exists(call_state_key(f"africastalking:{sid}"))

    await wait_for(runner_caught_up, 30, 0.1)
    await redis.aclose()
    # the provider follows the redirect and gets the reply the runner rendered for the first copy
    r = await http.post(again, data=at_callback(sid))
    assert [el.tag for el in ET.fromstring(r.content)] == ["Say", "GetDigits", "Redirect"]
    assert r.headers.get("x-switchboard-fallback") is None


async def test_voxology_late_reply_holds_with_a_redirect_then_gets_the_real_reply(stack, http):
    """Voxology has no retry of its own, but a REDIRECT fetches a new script (voxology.md §2): the
    hold names the callback URL with ``retry_of``, and the follow-up gets the flow's reply."""
    pid = int((stack.run_dir / "flow-runner.pid").read_text())
    call_id = f"vox-{uuid.uuid4().hex}"
    call = {"call_id": call_id, "direction": "inbound", "caller_no": "+15550000001", "api_no": "+15550000100"}
    os.kill(pid, signal.SIGSTOP)
    try:
        r = await http.post(stack.config.vox_callback_url, json={"type": "init_call", **call})
        assert r.status_code == 200 and r.headers.get("x-switchboard-fallback") == "1"
        actions = r.json()["actions"]
        assert [a["type"] for a in actions] == ["SAY", "REDIRECT"], actions
        again = actions[1]["params"]["url"]
        assert "fallback=1" in again and "retry_of=" in again
    finally:
        os.kill(pid, signal.SIGCONT)
    r = await http.post(again, json={"type": "live_call", **call})
    assert r.status_code == 200 and "x-switchboard-fallback" not in r.headers, r.text
    assert r.json()["actions"] and r.json()["actions"][0]["type"] != "REDIRECT"


async def test_a_key_press_survives_the_fallback(stack, http):
    """The runner is stopped when the caller presses 1: the caller hears the hold prompt, and the
    provider's follow-up (which carries no digits: AT re-posts the call's fields after a Redirect)
    gets the reply to the 1, not a re-prompt for an empty key press."""
    pid = int((stack.run_dir / "flow-runner.pid").read_text())
    sid = f"ATVId_{uuid.uuid4().hex}"
    first = await http.post(stack.config.callback_url, data=at_callback(sid))
    digits_url = ET.fromstring(first.content)[1].get("callbackUrl")
    os.kill(pid, signal.SIGSTOP)
    try:
        r = await http.post(digits_url, data={**at_callback(sid), "dtmfDigits": "1"})
        root = ET.fromstring(r.content)
        assert r.headers.get("x-switchboard-fallback") == "1" and [el.tag for el in root] == ["Say", "Redirect"]
        follow_up = root[1].text
        assert "retry_of=" in follow_up
    finally:
        os.kill(pid, signal.SIGCONT)
    r = await http.post(follow_up, data=at_callback(sid))  # no dtmfDigits on the follow-up
    root = ET.fromstring(r.content)
    assert r.headers.get("x-switchboard-fallback") is None
    assert [el.tag for el in root] == ["Say"] and root[0].text.startswith("Your account balance is")
    redis = aioredis.from_url(stack.config.redis_url)
    state = orjson.loads(await redis.get(call_state_key(f"africastalking:{sid}")))
    await redis.aclose()
    assert state["collected"] == {"menu": "1"}


async def publish(stack, topic: str, value: bytes, key: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def test_poison_call_event_goes_to_the_dead_letter_topic(stack):
    key = f"poison-{uuid.uuid4().hex}".encode()
    await publish(stack, Topic.CALL_EVENTS.value, b'{"not": "a call event"}', key)

    async def dead_lettered():  # type: ignore[no-untyped-def]
        return await read_topic(stack, Topic.CALL_EVENTS.dlq, key=key, idle_s=1)

    (record,) = await wait_for(dead_lettered, 30, 0.5)
    headers = {k: v.decode() for k, v in record.headers}
    assert record.value == b'{"not": "a call event"}'
    assert headers["x-error-class"] == "ValidationError" and headers["x-source-topic"] == Topic.CALL_EVENTS.value


async def test_cdr_upsert_is_idempotent_and_bad_records_are_dead_lettered(stack):
    example = orjson.loads(
        importlib.resources.files("switchboard.examples").joinpath("SessionEnded.v1.json").read_bytes()
    )
    call_key = f"africastalking:ATVId_{uuid.uuid4().hex}"
    event = SessionEnded.model_validate({**example, "call_key": call_key})
    for _ in range(2):
        await publish(stack, Topic.SESSIONS_ENDED.value, encode(event), call_key.encode())
    first = await wait_cdr(stack, call_key)
    bad_key = f"bad-{uuid.uuid4().hex}".encode()
    await publish(stack, Topic.SESSIONS_ENDED.value, b'{"call_key": 1}', bad_key)
    corrected = event.model_copy(update={"duration_s": 50})
    await publish(stack, Topic.SESSIONS_ENDED.value, encode(corrected), call_key.encode())

    async def updated():  # type: ignore[no-untyped-def]
        row = await cdr(stack, call_key)
        return row if row and row["duration_s"] == 50 else None

    row = await wait_for(updated, 30)
    assert row["created_at"] == first["created_at"] and row["inputs"] == first["inputs"]

    async def dead_lettered():  # type: ignore[no-untyped-def]
        return await read_topic(stack, Topic.SESSIONS_ENDED.dlq, key=bad_key, idle_s=1)

    assert len(await wait_for(dead_lettered, 30, 0.5)) == 1


async def test_migrations_are_at_head(stack):
    """One history for the database (CDRs, tenants, API keys): one head, and the stack is at it."""
    import asyncpg
    from alembic.script import ScriptDirectory

    from switchboard_cdr_sink.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config(stack.config.database_url)).get_heads()
    assert len(heads) == 1, heads  # one linear history, not a branch per service
    conn = await asyncpg.connect(stack.config.database_url)
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == heads[0]
        assert await conn.fetchval("SELECT count(*) FROM tenants WHERE tenant_id = 'default'") == 1
    finally:
        await conn.close()


async def test_redis_down_the_caller_still_hears_the_fallback(stack):
    import httpx

    from switchboard_ingress.app import build_app
    from switchboard_ingress.settings import IngressSettings

    settings = IngressSettings(
        kafka_bootstrap=stack.config.kafka_bootstrap, redis_url="redis://127.0.0.1:1/0", fallback_mode="hangup"
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as client:
            r = await client.post("/voice/instruct", data=at_callback(f"ATVId_{uuid.uuid4().hex}"))
            assert r.status_code == 200 and r.headers.get("x-switchboard-fallback") == "1"
            assert [el.tag for el in ET.fromstring(r.content)] == ["Say"]
            sid = f"ATVId_{uuid.uuid4().hex}"
            final = {**at_callback(sid), "isActive": "0", "durationInSeconds": "3", "hangupCause": "NORMAL_CLEARING"}
            r = await client.post("/voice/events", data=final)
            assert r.status_code == 200 and r.text == "OK"
    # the final notification was published without the duplicate guard: its CDR still lands
    row = await wait_cdr(stack, f"africastalking:{sid}")
    assert row["duration_s"] == 3 and row["status"] == "completed"


async def test_flow_runner_commits_what_it_processed(stack, http):
    from .helpers import group_lag

    for _ in range(5):
        await http.post(stack.config.callback_url, data=at_callback(f"ATVId_{uuid.uuid4().hex}"))

    async def drained():  # type: ignore[no-untyped-def]
        return await group_lag(stack.config.kafka_bootstrap, "flow-runner", Topic.CALL_EVENTS.value) == 0

    assert await wait_for(drained, 30, 0.3)
