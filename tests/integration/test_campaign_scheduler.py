"""The campaign scheduler against a real PostgreSQL (a database of its own in the stack's server,
migrated to head), with a clock the test sets: two schedulers never dial a contact twice, calling
windows in the callee's time zones (one number in several zones), holidays, the do-not-call check
and its list age, retries by outcome with their delay and cap, completion, and a restart in the
middle of a campaign. The stack's own dialer never sees this database, so it cannot interfere."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from switchboard.campaigns.contacts import Contact, normalise
from switchboard.campaigns.dnc import DncStore
from switchboard.campaigns.models import CampaignSpec, Pacing, RetryRule, Windows
from switchboard.campaigns.outcomes import record_outcome
from switchboard.campaigns.scheduling import Scheduler, ids_for
from switchboard.campaigns.store import CampaignStore, make_pool
from switchboard.campaigns.windows import next_open
from switchboard.events import DialRequest
from switchboard.phone import zones_for
from switchboard_cdr_sink.migrate import upgrade

pytestmark = pytest.mark.integration

MONDAY_14_UTC = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
"""09:00 in New York, 06:00 in Los Angeles, 17:00 in Nairobi."""
NEW_YORK, LOS_ANGELES, NAIROBI = "+12125550123", "+13105550123", "+254700100200"
TOLL_FREE = "+18005550123"  # phonenumbers maps it to every North American zone


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Published:
    def __init__(self) -> None:
        self.requests: list[DialRequest] = []

    async def __call__(self, request: DialRequest) -> None:
        await asyncio.sleep(0)  # let another scheduler run in between, as a broker round trip would
        self.requests.append(request)

    def to(self) -> list[str]:
        return [r.to for r in self.requests]

    def of(self, campaign_id: str) -> list[DialRequest]:
        return [r for r in self.requests if r.campaign_id == campaign_id]


@pytest.fixture(scope="module")
async def db_url(stack) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """A database of its own, migrated to head (the stack's dialer schedules the stack's only)."""
    name = f"sb_sched_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(stack.config.database_url)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    url = stack.config.database_url.rsplit("/", 1)[0] + f"/{name}"
    await asyncio.to_thread(upgrade, url)
    yield url
    admin = await asyncpg.connect(stack.config.database_url)
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.close()


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    made = await make_pool(db_url, max_size=10)
    yield made
    await made.close()


async def campaign(pool: asyncpg.Pool, clock: FakeClock, phones: list[str], **spec: object) -> str:
    store = CampaignStore(pool, clock=clock)
    made = await store.create("default", CampaignSpec(name="t", flow="survey", **spec))  # type: ignore[arg-type]

    async def batches() -> AsyncIterator[list[Contact]]:
        contacts = []
        for line, phone in enumerate(phones, start=2):
            e164, zones = normalise(phone)
            contacts.append(Contact(line, e164, zones, {"n": str(line)}))
        yield contacts

    await store.add_contacts(made["campaign_id"], batches())
    assert await store.transition("default", made["campaign_id"], "start")
    return str(made["campaign_id"])


async def contacts(pool: asyncpg.Pool, campaign_id: str) -> dict[str, asyncpg.Record]:
    rows = await pool.fetch("SELECT * FROM campaign_contacts WHERE campaign_id = $1", campaign_id)
    return {r["phone"]: r for r in rows}


def scheduler(pool: asyncpg.Pool, clock: FakeClock, publish: Published, **kw: object) -> Scheduler:
    return Scheduler(pool, publish, clock=clock, **kw)  # type: ignore[arg-type]


async def test_two_schedulers_dial_every_contact_exactly_once(pool):
    clock = FakeClock(MONDAY_14_UTC)
    phones = [f"+2547{i:08d}" for i in range(10_000_000, 10_000_600)]
    cid = await campaign(pool, clock, phones, policy=Pacing(cps=100))
    published = Published()
    # hopper_s=0: both replicas may take at any moment (one contact a take), so the rows
    # themselves (SKIP LOCKED) are the only guard
    one, two = (scheduler(pool, clock, published, hopper_s=0.0) for _ in range(2))
    for _ in range(400):
        await asyncio.gather(one.take(cid), two.take(cid), one.take(cid), two.take(cid))
        if len(published.requests) >= len(phones):
            break
    dialled = published.to()
    assert sorted(dialled) == sorted(phones), "each contact handed on once"
    assert len({r.call_id for r in published.requests}) == len(phones)
    rows = await contacts(pool, cid)
    assert {r["state"] for r in rows.values()} == {"dialing"} and {r["attempts"] for r in rows.values()} == {1}
    attempts = await pool.fetchval("SELECT count(*) FROM campaign_attempts WHERE campaign_id = $1", cid)
    assert attempts == len(phones)
    request = published.requests[0]
    assert request.campaign_id == cid and request.attempt == 1 and request.contact_id
    assert request.idempotency_key == ids_for(cid, int(request.contact_id), 1)[2]
    assert request.session_data["n"].isdigit() and request.policy.cps == 100


async def test_the_baton_gives_one_hopper_per_period_across_replicas(pool):
    clock = FakeClock(MONDAY_14_UTC)
    cid = await campaign(pool, clock, [f"+2547{i:08d}" for i in range(20_000_000, 20_000_100)], policy=Pacing(cps=5))
    published = Published()
    replicas = [scheduler(pool, clock, published, hopper_s=2.0) for _ in range(3)]
    await asyncio.gather(*(r.take(cid) for r in replicas))
    assert len(published.requests) == 10, "cps 5 x hopper 2 s, taken by one replica only"
    await asyncio.gather(*(r.take(cid) for r in replicas))
    assert len(published.requests) == 10, "the next hopper waits for its time"
    clock.advance(2)
    await asyncio.gather(*(r.take(cid) for r in replicas))
    assert len(published.requests) == 20


async def test_windows_in_the_callees_time_zones(pool):
    clock = FakeClock(MONDAY_14_UTC)
    assert len(zones_for(TOLL_FREE)) > 1
    windows = Windows.every_day("08:00", "21:00")
    cid = await campaign(pool, clock, [NEW_YORK, LOS_ANGELES, NAIROBI, TOLL_FREE], windows=windows)
    published = Published()
    await scheduler(pool, clock, published).take(cid)
    assert sorted(published.to()) == sorted([NEW_YORK, NAIROBI])
    rows = await contacts(pool, cid)
    # Los Angeles waits (not failed) until 08:00 there, 16:00 UTC
    assert rows[LOS_ANGELES]["state"] == "pending" and rows[LOS_ANGELES]["final_status"] is None
    assert rows[LOS_ANGELES]["next_at"] == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    # the toll-free number waits until 08:00 holds in every one of its zones
    opens = rows[TOLL_FREE]["next_at"]
    assert opens == next_open(windows, zones_for(TOLL_FREE), MONDAY_14_UTC) and opens > MONDAY_14_UTC
    for zone in zones_for(TOLL_FREE):
        local = opens.astimezone(ZoneInfo(zone))
        assert 8 <= local.hour < 21, (zone, local)
    clock.now = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    await scheduler(pool, clock, published).take(cid)
    assert LOS_ANGELES in published.to() and TOLL_FREE not in published.to()
    assert opens > clock.now  # Guam and Pago Pago are among its zones: 22:00 UTC is 08:00 in Guam
    clock.now = opens
    clock.advance(1)
    await scheduler(pool, clock, published).take(cid)
    assert sorted(published.to()) == sorted([NEW_YORK, NAIROBI, LOS_ANGELES, TOLL_FREE])


async def test_a_holiday_in_the_callees_date_waits_for_the_next_day(pool):
    clock = FakeClock(MONDAY_14_UTC)
    windows = Windows.every_day("08:00", "21:00", holidays=[date(2026, 12, 7)])
    cid = await campaign(pool, clock, [NAIROBI], windows=windows)
    published = Published()
    await scheduler(pool, clock, published).take(cid)
    assert published.requests == []
    row = (await contacts(pool, cid))[NAIROBI]
    assert row["state"] == "pending"
    assert row["next_at"] == datetime(2026, 12, 8, 8, 0, tzinfo=ZoneInfo("Africa/Nairobi"))


async def test_a_number_on_a_do_not_call_list_is_not_dialled_and_its_attempt_says_so(pool):
    clock = FakeClock(MONDAY_14_UTC)
    dnc = DncStore(pool, clock=clock)
    await dnc.add("default", [NAIROBI])

    async def registry() -> AsyncIterator[list[str]]:
        yield [NEW_YORK]

    await dnc.replace("default", "registry", registry(), as_of=MONDAY_14_UTC - timedelta(days=40))
    lists = {x["name"]: x for x in await dnc.lists("default")}
    assert lists["registry"]["stale"] and lists["registry"]["age_days"] == 40 and not lists["tenant"]["stale"]
    cid = await campaign(pool, clock, [NAIROBI, NEW_YORK, LOS_ANGELES])
    published = Published()
    await scheduler(pool, clock, published).take(cid)
    assert published.to() == [LOS_ANGELES]
    rows = await contacts(pool, cid)
    for phone, name in ((NAIROBI, "tenant"), (NEW_YORK, "registry")):
        assert rows[phone]["state"] == "done" and rows[phone]["final_status"] == "dnc"
        attempt = await pool.fetchrow(
            "SELECT * FROM campaign_attempts WHERE contact_id = $1", rows[phone]["contact_id"]
        )
        assert attempt["outcome"] == "dnc" and name in attempt["detail"]
    await pool.execute("DELETE FROM dnc_numbers WHERE tenant_id = 'default'")


async def test_retries_follow_the_outcome_rules(pool):
    clock = FakeClock(MONDAY_14_UTC)
    busy, silent, failed = "+254700300001", "+254700300002", "+254700300003"
    retry = {"busy": RetryRule(delay_s=600, max_attempts=2), "failed": RetryRule(delay_s=60, max_attempts=3)}
    cid = await campaign(pool, clock, [busy, silent, failed], retry=retry)
    published = Published()
    sched = scheduler(pool, clock, published)
    await sched.take(cid)
    first = {r.to: r for r in published.requests}
    assert set(first) == {busy, silent, failed}
    assert await record_outcome(pool, call_id=first[busy].call_id, outcome="busy", at=clock()) == "pending"
    assert await record_outcome(pool, call_id=first[busy].call_id, outcome="busy", at=clock()) is None  # idempotent
    assert await record_outcome(pool, call_id=first[silent].call_id, outcome="no-answer", at=clock()) == "done"
    assert await record_outcome(pool, call_id=first[failed].call_id, outcome="failed", at=clock()) == "pending"
    clock.advance(59)
    await sched.take(cid)
    assert len(published.requests) == 3, "nothing is due before its delay"
    clock.advance(2)
    await sched.take(cid)
    assert published.to()[3:] == [failed]
    clock.advance(600)
    await sched.take(cid)
    second = {r.to: r for r in published.requests[3:]}
    assert set(second) == {busy, failed} and second[busy].attempt == 2
    assert second[busy].call_id != first[busy].call_id
    # busy again: max_attempts 2 reached, final
    assert await record_outcome(pool, call_id=second[busy].call_id, outcome="busy", at=clock()) == "done"
    assert await record_outcome(pool, call_id=second[failed].call_id, outcome="completed", at=clock()) == "done"
    rows = await contacts(pool, cid)
    assert (rows[busy]["final_status"], rows[busy]["attempts"]) == ("busy", 2)
    assert (rows[silent]["final_status"], rows[silent]["attempts"]) == ("no-answer", 1)
    assert (rows[failed]["final_status"], rows[failed]["attempts"]) == ("completed", 2)
    status = await pool.fetchval("SELECT status FROM campaigns WHERE campaign_id = $1", cid)
    assert status == "completed", "every contact is final"
    progress = await CampaignStore(pool, clock=clock).progress("default", cid, default_cps=10)
    assert progress is not None
    assert progress["by_final_status"] == {"busy": 1, "no-answer": 1, "completed": 1}
    assert progress["attempts"] == 5 and progress["attempts_by_outcome"]["busy"] == 2


async def test_pause_resume_and_cancel(pool):
    clock = FakeClock(MONDAY_14_UTC)
    cid = await campaign(
        pool, clock, [f"+2547003100{i:02d}" for i in range(30)], policy=Pacing(cps=5),
        retry={"busy": RetryRule(delay_s=0, max_attempts=3)},
    )  # fmt: skip
    store = CampaignStore(pool, clock=clock)
    published = Published()
    sched = scheduler(pool, clock, published)
    await sched.tick()  # every running campaign of this database: the others' contacts are filtered out
    assert len(published.of(cid)) == 10
    await store.transition("default", cid, "pause")
    clock.advance(10)
    await sched.tick()
    assert len(published.of(cid)) == 10, "a paused campaign takes nothing"
    await store.transition("default", cid, "resume")
    await sched.tick()
    assert len(published.of(cid)) == 20
    await store.transition("default", cid, "cancel")
    clock.advance(10)
    await sched.tick()
    assert len(published.of(cid)) == 20
    progress = await store.progress("default", cid, default_cps=10)
    assert progress is not None and progress["status"] == "cancelled"
    assert progress["by_final_status"] == {"cancelled": 10} and progress["by_state"]["dialing"] == 20
    # a call that was out when the campaign was cancelled ends and is final, never retried
    assert await record_outcome(pool, call_id=published.of(cid)[0].call_id, outcome="busy", at=clock()) == "done"
    with pytest.raises(Exception, match="cannot resume a campaign that is cancelled"):
        await store.transition("default", cid, "resume")


async def test_a_restart_mid_campaign_loses_and_repeats_nothing(db_url):
    clock = FakeClock(MONDAY_14_UTC)
    phones = [f"+2547004000{i:02d}" for i in range(40)]
    published = Published()
    before = await make_pool(db_url)
    cid = await campaign(before, clock, phones, policy=Pacing(cps=5))
    await scheduler(before, clock, published).take(cid)
    assert len(published.requests) == 10
    await before.close()  # the process ends; everything it knew is in PostgreSQL
    after = await make_pool(db_url)
    try:
        for _ in range(10):
            clock.advance(2)
            await scheduler(after, clock, published).take(cid)
        assert sorted(published.to()) == sorted(phones)
    finally:
        await after.close()


async def test_a_campaigns_status_callback_rides_on_each_dial_request(pool):
    clock = FakeClock(MONDAY_14_UTC)
    hook = {"url": "https://crm.example.com/calls", "events": ["answered", "completed"]}
    cid = await campaign(pool, clock, ["+254700100200"], status_callback=hook)
    published = Published()
    await scheduler(pool, clock, published).take(cid)
    (request,) = published.of(cid)
    assert request.status_callback is not None
    assert request.status_callback.model_dump() == hook
