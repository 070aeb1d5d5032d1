"""The admission scripts (:mod:`switchboard.pacing`) against a real Redis: GCRA spacing on Redis's
clock, leases taken all or none, released, and expired."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import pytest

from switchboard.pacing import Admission, Lease, Pace
from switchboard.redis import call_id_key, lease_call_key, lease_key, pace_key


def call() -> str:
    return str(uuid.uuid4())


def spacings(grants) -> list[int]:  # type: ignore[no-untyped-def]
    times = sorted(g.at_us for g in grants)
    return [b - a for a, b in itertools.pairwise(times)]


async def test_grants_at_once_are_spaced_one_interval_apart(redis):
    admission = Admission(redis, lease_s=60, max_ahead_s=10)
    grants = await asyncio.gather(*(admission.admit(call(), [], [Pace("account", "at/a", 50)]) for _ in range(20)))
    assert all(g.granted for g in grants)
    assert spacings(grants) == [20_000] * 19  # 1/50 s in µs, not a second's worth at once
    assert min(g.wait_s for g in grants) < 0.005
    assert max(g.wait_s for g in grants) == pytest.approx(19 * 0.02, abs=0.01)


async def test_the_slowest_scope_sets_the_spacing(redis):
    admission = Admission(redis, lease_s=60, max_ahead_s=10)
    paces = [Pace("account", "at/a", 100), Pace("campaign", "t/c1", 10)]
    grants = [await admission.admit(call(), [], paces) for _ in range(5)]
    assert min(spacings(grants)) >= 100_000
    # the account's own limiter moved with the campaign's: another campaign on it is spaced 10 ms
    # after the last reservation, not before it
    other = await admission.admit(call(), [], [Pace("account", "at/a", 100), Pace("campaign", "t/c2", 10)])
    assert other.at_us - max(g.at_us for g in grants) >= 10_000


async def test_no_burst_after_a_quiet_spell(redis):
    admission = Admission(redis, lease_s=60)
    paces = [Pace("account", "at/a", 20)]
    await admission.admit(call(), [], paces)
    await asyncio.sleep(0.5)  # ten intervals unused: none of them is saved up
    first, second = await admission.admit(call(), [], paces), await admission.admit(call(), [], paces)
    assert first.wait_s < 0.005 and second.at_us - first.at_us == 50_000


async def test_a_slot_too_far_ahead_is_refused_and_takes_nothing(redis):
    admission = Admission(redis, lease_s=60, max_ahead_s=0.5)
    paces = [Pace("account", "at/a", 1)]
    leases = [Lease("account", "at/a", 5)]
    assert (await admission.admit("first", leases, paces)).granted
    tat = await redis.get(pace_key("account", "at/a"))
    refused = await admission.admit("second", leases, paces)
    assert not refused.granted and refused.full is None and refused.wait_s == pytest.approx(0.5, abs=0.05)
    assert await redis.get(pace_key("account", "at/a")) == tat  # the limiter did not move
    assert await redis.zrange(lease_key("account", "at/a"), 0, -1) == [b"first"]
    assert not await redis.exists(lease_call_key("second"))


async def test_a_full_scope_refuses_and_a_held_lease_is_kept(redis):
    admission = Admission(redis, lease_s=60)
    leases = [Lease("account", "at/a", 2)]
    assert (await admission.admit("a", leases)).granted and (await admission.admit("b", leases)).granted
    refused = await admission.admit("c", leases)
    assert not refused.granted and refused.full == leases[0]
    assert (await admission.admit("a", leases)).granted  # already holding: taking again is free
    assert await admission.live("account", "at/a") == 2


async def test_leases_are_all_or_none(redis):
    """The tenant's cap is full: the call takes no account or campaign lease either."""
    admission = Admission(redis, lease_s=60)
    assert (await admission.admit("held", [Lease("tenant", "t1", 1)])).granted
    wanted = [Lease("account", "at/a", 10), Lease("campaign", "t1/c", 10), Lease("tenant", "t1", 1)]
    refused = await admission.admit("new", wanted, [Pace("account", "at/a", 5)])
    assert not refused.granted and refused.full == Lease("tenant", "t1", 1)
    assert await redis.zcard(lease_key("account", "at/a")) == 0
    assert await redis.zcard(lease_key("campaign", "t1/c")) == 0
    assert not await redis.exists(lease_call_key("new")) and not await redis.exists(pace_key("account", "at/a"))


async def test_release_frees_every_scope_once(redis):
    admission = Admission(redis, lease_s=60)
    leases = [Lease("account", "at/a", 1), Lease("tenant", "t1", 1), Lease("campaign", "t1/c", 1)]
    assert (await admission.admit("x", leases)).granted
    assert not (await admission.admit("y", leases)).granted
    assert await admission.release("x") == 3
    assert await admission.release("x") == 0  # a redelivered end frees nothing twice
    assert (await admission.admit("y", leases)).granted


async def test_an_uncapped_scope_still_counts(redis):
    admission = Admission(redis, lease_s=60)
    for name in "abc":
        assert (await admission.admit(name, [Lease("tenant", "t1", None)])).granted
    assert await admission.live("tenant", "t1") == 3


async def test_an_expired_lease_is_purged_by_the_script(redis):
    admission = Admission(redis, lease_s=0.3)
    leases = [Lease("account", "at/a", 1)]
    assert (await admission.admit("gone", leases)).granted  # its holder dies: no end ever comes
    refused = await admission.admit("next", leases)
    assert not refused.granted and 0 < refused.wait_s <= 0.3
    await asyncio.sleep(0.4)
    assert await admission.live("account", "at/a") == 0
    assert (await admission.admit("next", leases)).granted
    assert await redis.zrange(lease_key("account", "at/a"), 0, -1) == [b"next"]


async def test_bound_shortens_every_lease_of_a_call_and_never_lengthens_one(redis):
    admission = Admission(redis, lease_s=3600)
    leases = [Lease("account", "at/a", 1), Lease("campaign", "t1/c", 1)]
    assert (await admission.admit("cut", leases)).granted
    assert (await admission.admit("other", [Lease("tenant", "t1", None)])).granted
    assert await admission.bound("cut", 0.5) == 2
    assert await admission.bound("cut", 60) == 0  # a lease ending sooner keeps its end
    assert not (await admission.admit("next", leases)).granted  # still held until then
    await asyncio.sleep(1.0)
    assert (await admission.admit("next", leases)).granted  # its slots came back without an end
    assert await admission.live("tenant", "t1") == 1  # another call's lease is untouched
    assert await admission.bound("never-admitted", 1) == 0


async def test_a_linked_call_is_never_bounded_and_confirm_undoes_a_bound(redis):
    admission = Admission(redis, lease_s=3600)
    leases = [Lease("account", "at/a", 1), Lease("campaign", "t1/c", 1)]
    assert (await admission.admit("placing", leases)).granted
    assert await admission.bound("placing", 1) == 2  # another replica took the request over...
    await redis.set(call_id_key("placing"), "at:ATVId_1")  # ...while this one was still placing it
    assert await admission.confirm("placing") == 2
    assert await admission.bound("placing", 1) == 0  # linked: never bounded again
    seconds, micros = await redis.time()
    now_ms = seconds * 1000 + micros // 1000
    for key in (lease_key("account", "at/a"), lease_key("campaign", "t1/c")):
        assert await redis.zscore(key, "placing") - now_ms > 3_500_000
    assert await redis.pttl(lease_call_key("placing")) > 3_500_000  # its end still releases them all
    assert await admission.release("placing") == 2
