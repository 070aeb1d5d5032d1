"""Pacing and live-call caps across dialer replicas: real dialer apps (``build_app``) on a real
Tansu and Redis, placing calls with the provider simulator. Waiting requests block their handler,
so these run on Tansu only (the in-memory broker runs a handler inside ``publish``)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from switchboard.events import DialAttempt, DialRequest, Direction, SessionEnded, decode, encode
from switchboard.pacing import Admission
from switchboard.redis import lease_call_key, lease_key
from switchboard.topics import Topic
from switchboard_devstack.testing import Bus, serve, tansu_process, wait_for
from switchboard_dialer.app import build_app
from switchboard_dialer.settings import DialerSettings
from switchboard_provider_sim.app import build_app as build_sim
from switchboard_provider_sim.settings import SimSettings

pytestmark = pytest.mark.integration

ACCOUNT = "africastalking/default"


@pytest.fixture
def tansu() -> Iterator[Bus]:
    with tansu_process() as config:
        yield Bus("tansu", config.kafka_bootstrap)


@pytest.fixture
async def sim_url():
    """Africa's Talking, simulated: every number busy (callbacks go nowhere: no flow-runner here,
    so a call's end arrives only when a test publishes it)."""
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


def dialer(bus: Bus, redis_server, sim: str, monkeypatch, *, accounts: dict, **settings) -> object:  # type: ignore[no-untyped-def]
    """A dialer app whose Africa's Talking accounts are ``accounts`` (name → cps/max_concurrent)."""
    monkeypatch.setenv(
        "SB_ACCOUNTS",
        json.dumps(
            {
                "africastalking": {
                    name: {"base_url": sim, "username": "sandbox", "api_key": "sim-key", "from_number": "+254711000999"}
                    | limits
                    for name, limits in accounts.items()
                }
            }
        ),
    )
    values = {
        "kafka_bootstrap": bus.bootstrap,
        "redis_url": redis_server.redis_url,
        "kafka_partitions": 1,  # one consumer per app: two apps share the topic's two partitions
        "consumer_max_retries": 1,
        "campaign_scheduler": False,  # no PostgreSQL here: no campaigns to take
        "log_level": "WARNING",
        **settings,
    }
    return build_app(DialerSettings(**values))


def dial(**fields) -> DialRequest:  # type: ignore[no-untyped-def]
    return DialRequest(**{"to": "+254700000002", "flow": "survey", **fields})


async def publish(bus: Bus, *requests: DialRequest, key: bytes | None = None) -> None:
    """Publish in order; with ``key`` all on one partition (read in that order)."""
    for r in requests:
        await bus.publish(Topic.DIAL_REQUESTS.value, encode(r), key=key or r.request_id.encode())


async def attempts(bus: Bus, n: int, timeout_s: float = 30) -> list[DialAttempt]:
    async def enough():  # type: ignore[no-untyped-def]
        found = await bus.published(Topic.DIAL_ATTEMPTS.value)
        return found if len(found) >= n else None

    return [decode(DialAttempt, r.value) for r in await wait_for(enough, timeout_s, 0.2)]


def ended(attempt: DialAttempt) -> SessionEnded:
    return SessionEnded(
        call_key=attempt.call_key or "x",
        call_id=attempt.call_id,
        provider="africastalking",
        direction=Direction.OUTBOUND,
        caller_number=attempt.to,
        destination_number=attempt.caller_id,
        status="busy",
        ended_at=datetime.now(UTC),
    )


@pytest.fixture
def grants(monkeypatch) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """``(replica, granted µs)`` of every admission the script granted, from the script's answer."""
    seen: list[tuple[int, int]] = []
    real = Admission.admit

    async def recording(self, call_id, leases, paces=None):  # type: ignore[no-untyped-def]
        grant = await real(self, call_id, leases, paces)
        if grant.granted:
            seen.append((id(self), grant.at_us))
        return grant

    monkeypatch.setattr(Admission, "admit", recording)
    return seen


async def test_two_replicas_space_calls_by_one_over_the_account_cps(
    tansu, redis_server, redis, sim_url, monkeypatch, grants
):
    accounts = {"default": {"cps": 20}}
    apps = [dialer(tansu, redis_server, sim_url, monkeypatch, accounts=accounts) for _ in range(2)]
    requests = [dial() for _ in range(40)]
    async with tansu.running(*apps):
        await publish(tansu, *requests)
        placed = await attempts(tansu, 40)
    assert {a.request_id for a in placed} == {r.request_id for r in requests}
    assert len({replica for replica, _ in grants}) == 2, "both replicas placed calls"
    times = sorted(at for _, at in grants)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 50_000 - 100, gaps  # 1/20 s, on Redis's clock, whichever replica placed


async def test_an_end_frees_the_slot(tansu, redis_server, redis, sim_url, monkeypatch):
    app = dialer(tansu, redis_server, sim_url, monkeypatch, accounts={"default": {"max_concurrent": 1}})
    first, second = dial(), dial()
    async with tansu.running(app):
        await publish(tansu, first)
        (placed,) = await attempts(tansu, 1)
        await publish(tansu, second)
        await asyncio.sleep(1.5)  # the second waits: the account's one slot is held
        assert len(await tansu.published(Topic.DIAL_ATTEMPTS.value)) == 1
        assert await redis.zrange(lease_key("account", ACCOUNT), 0, -1) == [first.call_id.encode()]
        await tansu.publish(Topic.SESSIONS_ENDED.value, encode(ended(placed)), key=b"x")
        both = await attempts(tansu, 2)
    assert {a.request_id for a in both} == {first.request_id, second.request_id}
    assert await redis.zrange(lease_key("account", ACCOUNT), 0, -1) == [second.call_id.encode()]
    assert not await redis.exists(lease_call_key(first.call_id))


async def test_a_lease_without_an_end_runs_out(tansu, redis_server, redis, sim_url, monkeypatch, grants):
    app = dialer(
        tansu, redis_server, sim_url, monkeypatch, accounts={"default": {"max_concurrent": 1}}, call_lease_s=1.0
    )
    async with tansu.running(app):
        await publish(tansu, dial(), dial())
        await attempts(tansu, 2)  # no end is ever published
    (_, at_first), (_, at_second) = grants
    assert at_second - at_first >= 1_000_000 - 50_000  # the slot came back when the lease ran out


async def test_a_full_tenant_takes_no_account_lease(tansu, redis_server, redis, sim_url, monkeypatch):
    app = dialer(tansu, redis_server, sim_url, monkeypatch, accounts={"default": {}, "other": {"max_concurrent": 5}})
    first = dial(tenant_id="t1", tenant_max_live_calls=1)
    second = dial(tenant_id="t1", tenant_max_live_calls=1, account="other")
    async with tansu.running(app):
        await publish(tansu, first)
        await attempts(tansu, 1)
        await publish(tansu, second)
        await asyncio.sleep(1.0)
        assert len(await tansu.published(Topic.DIAL_ATTEMPTS.value)) == 1
        assert await redis.zcard(lease_key("account", "africastalking/other")) == 0
        assert await redis.zrange(lease_key("tenant", "t1"), 0, -1) == [first.call_id.encode()]
        assert not await redis.exists(lease_call_key(second.call_id))


async def test_a_refused_dial_gives_its_leases_back(tansu, redis_server, redis, sim_url, monkeypatch):
    app = dialer(tansu, redis_server, sim_url, monkeypatch, accounts={"default": {"max_concurrent": 1}})
    bad = dial(to="not-a-number")  # the simulator answers InvalidPhoneNumber
    good = dial()
    async with tansu.running(app):
        await publish(tansu, bad, good, key=b"one-partition")
        by_request = {a.request_id: a for a in await attempts(tansu, 2, timeout_s=15)}
    assert not by_request[bad.request_id].accepted and by_request[good.request_id].accepted
    assert await redis.zrange(lease_key("account", ACCOUNT), 0, -1) == [good.call_id.encode()]
