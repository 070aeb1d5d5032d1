"""The dialer's real ``build_app(settings)`` on a broker (in memory, and on Tansu where offsets
matter) with a real Redis, placing calls with the provider simulator (served on a free port)."""

from __future__ import annotations

import httpx
import pytest

from switchboard.events import DialAttempt, DialRequest, Direction, decode, encode
from switchboard.pacing import Admission, Lease
from switchboard.redis import dial_done_key, lease_key
from switchboard.state import StateStore
from switchboard.topics import Topic
from switchboard_devstack.stack import free_port
from switchboard_devstack.testing import Bus, serve, wait_for
from switchboard_dialer.app import GROUP_ID, build_app
from switchboard_dialer.settings import DialerSettings
from switchboard_provider_sim.app import build_app as build_sim
from switchboard_provider_sim.settings import SimSettings

FROM_NUMBER = "+254711000999"
OUTPUTS = (Topic.DIAL_ATTEMPTS.value, Topic.DIAL_REQUESTS.dlq)


@pytest.fixture
async def sim_url():
    """Africa's Talking, simulated: every number busy, callbacks go nowhere (not under test)."""
    settings = SimSettings(
        at_username="sandbox",
        at_api_key="sim-key",
        at_callback_url="http://127.0.0.1:9/callback",
        at_events_url=None,
        speed=1000,
        answer_ratio=0,
        busy_ratio=1,
    )
    async with serve(build_sim(settings)) as url:
        yield url


def dialer_for(bus: Bus, redis_server, at_base_url: str, monkeypatch) -> object:
    """The dialer app, its Africa's Talking default account at ``at_base_url``."""
    for name, value in {
        "SB_AT_BASE_URL": at_base_url,
        "SB_AT_USERNAME": "sandbox",
        "SB_AT_API_KEY": "sim-key",
        "SB_AT_FROM_NUMBER": FROM_NUMBER,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SB_ACCOUNTS", raising=False)
    settings = DialerSettings(
        kafka_bootstrap=bus.bootstrap,
        redis_url=redis_server.redis_url,
        dial_cps=100,
        consumer_max_retries=1,
        transient_retry_s=0.5,  # an unreachable provider is retried this long, then dead-lettered
        log_level="WARNING",
        dial_unconfirmed_lease_s=90,
    )
    return build_app(settings)


def request(**overrides) -> DialRequest:
    return DialRequest(to="+254700000002", flow="survey", session_data={"firstName": "Amina"}, **overrides)


async def attempts(bus: Bus, expected: int) -> list[DialAttempt]:
    async def enough():  # type: ignore[no-untyped-def]
        found = await bus.published(Topic.DIAL_ATTEMPTS.value)
        return found if len(found) >= expected else None

    return [decode(DialAttempt, r.value) for r in await wait_for(enough, 30, 0.2)]


async def test_a_dial_request_is_placed_and_its_attempt_published(bus, redis_server, redis, sim_url, monkeypatch):
    dial = request(campaign_id="c-1")
    async with bus.running(dialer_for(bus, redis_server, sim_url, monkeypatch), capture=OUTPUTS):
        await bus.publish(Topic.DIAL_REQUESTS.value, encode(dial), key=dial.request_id.encode())
        (attempt,) = await attempts(bus, 1)
        await bus.settled(GROUP_ID, Topic.DIAL_REQUESTS.value)
    assert attempt.accepted and attempt.provider_status == "Queued"
    assert (attempt.request_id, attempt.call_id, attempt.caller_id) == (dial.request_id, dial.call_id, FROM_NUMBER)
    session_id = attempt.call_key.removeprefix("africastalking:") if attempt.call_key else ""
    async with httpx.AsyncClient() as http:
        placed = (await http.get(f"{sim_url}/sim/calls/{session_id}")).json()
    assert placed["session_id"] == session_id  # the simulator really got the call
    state = await StateStore(redis).load(attempt.call_key or "")
    assert state is not None and state.direction is Direction.OUTBOUND and state.status == "dialing"
    assert (state.flow_ref, state.call_id, state.session_data) == ("survey", dial.call_id, {"firstName": "Amina"})
    assert (state.caller_number, state.destination_number) == (dial.to, FROM_NUMBER)
    assert await StateStore(redis).call_key_of(dial.call_id) == attempt.call_key


async def test_a_redelivered_request_rings_once(bus, redis_server, redis, sim_url, monkeypatch):
    dial = request()
    twin = request(idempotency_key=dial.request_id)  # another request, the same idempotency key
    async with bus.running(dialer_for(bus, redis_server, sim_url, monkeypatch), capture=OUTPUTS):
        for again in (dial, dial, twin):
            await bus.publish(Topic.DIAL_REQUESTS.value, encode(again), key=again.request_id.encode())
        await bus.settled(GROUP_ID, Topic.DIAL_REQUESTS.value)
        placed = await attempts(bus, 1)
    # One ring for the key. On Tansu the twin (keyed by its own request id) may sit on another
    # partition and be taken first; either way only one of them is placed.
    assert len(placed) == 1 and placed[0].request_id in (dial.request_id, twin.request_id)


async def test_a_provider_out_of_reach_releases_the_request_for_a_retry(memory_bus, redis_server, redis, monkeypatch):
    """Nothing listens at the provider's address: the request surely did not reach it, so its
    idempotency key is released (a later delivery may place it) and, once ``transient_retry_s`` has
    passed, it is dead-lettered, never lost."""
    dial = request()
    app = dialer_for(memory_bus, redis_server, f"http://127.0.0.1:{free_port()}", monkeypatch)
    async with memory_bus.running(app, capture=OUTPUTS):
        await memory_bus.publish(Topic.DIAL_REQUESTS.value, encode(dial), key=dial.request_id.encode())
        (dead,) = await memory_bus.published(Topic.DIAL_REQUESTS.dlq)
        assert await memory_bus.published(Topic.DIAL_ATTEMPTS.value) == []
    assert decode(DialRequest, dead.value) == dial and dead.headers["x-error-class"] == "TransientError"
    assert await redis.exists(dial_done_key(dial.dedupe_key)) == 0


@pytest.mark.parametrize("linked", [False, True])
async def test_a_redelivered_claim_without_its_call_gets_its_leases_bounded(
    memory_bus, redis_server, redis, monkeypatch, linked
):
    """A replica claimed the request (``sb:dialed`` names its call id) and died before linking
    the provider's call: redelivered, the request is not placed again and its leases, which no end
    will ever release, now end within ``SB_DIAL_UNCONFIRMED_LEASE_S`` (90 s here) instead of the
    2 h lease. A claim whose call was linked keeps its leases for its end to release."""
    dial = request(campaign_id="c-bound")
    scope = f"{dial.tenant_id}/c-bound"
    admission = Admission(redis, lease_s=7200)
    assert (await admission.admit(dial.call_id, [Lease("campaign", scope, 5), Lease("tenant", "t", None)])).granted
    await redis.set(dial_done_key(dial.dedupe_key), dial.call_id)
    if linked:
        await StateStore(redis).link_call_id(dial.call_id, "africastalking:ATVId_linked")
    app = dialer_for(memory_bus, redis_server, f"http://127.0.0.1:{free_port()}", monkeypatch)
    async with memory_bus.running(app, capture=OUTPUTS):
        await memory_bus.publish(Topic.DIAL_REQUESTS.value, encode(dial), key=dial.request_id.encode())
        assert await memory_bus.published(Topic.DIAL_ATTEMPTS.value) == []  # never placed twice
    seconds, micros = await redis.time()
    now_ms = seconds * 1000 + micros // 1000
    for key in (lease_key("campaign", scope), lease_key("tenant", "t")):
        left_s = (await redis.zscore(key, dial.call_id) - now_ms) / 1000
        assert (7000 < left_s <= 7200) if linked else (80 < left_s <= 90), (key, left_s)


async def test_a_redis_error_while_recording_an_accepted_call_is_retried_in_place(
    memory_bus, redis_server, redis, sim_url, monkeypatch
):
    """The provider accepted the call and the link write fails once: the dialer retries its
    writes itself (a redelivery would find its claim without a link and bound the leases), so the
    call is linked, published once and keeps a full lease."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    failures = [RedisConnectionError("Redis went away for a moment")]
    link = StateStore.link_call_id

    async def flaky_link(self, call_id: str, call_key: str) -> None:  # type: ignore[no-untyped-def]
        if failures:
            raise failures.pop()
        await link(self, call_id, call_key)

    monkeypatch.setattr(StateStore, "link_call_id", flaky_link)
    dial = request(campaign_id="c-retry")
    async with memory_bus.running(dialer_for(memory_bus, redis_server, sim_url, monkeypatch), capture=OUTPUTS):
        await memory_bus.publish(Topic.DIAL_REQUESTS.value, encode(dial), key=dial.request_id.encode())
        (attempt,) = [decode(DialAttempt, r.value) for r in await memory_bus.published(Topic.DIAL_ATTEMPTS.value)]
    assert not failures and attempt.accepted
    assert await StateStore(redis).call_key_of(dial.call_id) == attempt.call_key
    seconds, _ = await redis.time()
    left_s = (await redis.zscore(lease_key("campaign", f"{dial.tenant_id}/c-retry"), dial.call_id)) / 1000 - seconds
    assert left_s > 3600  # the full SB_CALL_LEASE_S (2 h), not the unconfirmed 90 s
