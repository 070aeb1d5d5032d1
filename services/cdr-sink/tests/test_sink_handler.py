"""The cdr-sink's real ``build_app(settings)`` on a broker (in memory, and on Tansu where offsets
matter) writing into a real, migrated PostgreSQL."""

from __future__ import annotations

import pytest

from switchboard.events import CdrRecorded, decode, encode
from switchboard.testing import dial_attempt, session_ended
from switchboard.topics import Topic
from switchboard_cdr_sink.app import GROUP_ID, build_app
from switchboard_cdr_sink.settings import CdrSinkSettings
from switchboard_devstack.testing import Bus, wait_for


@pytest.fixture
def sink_app(bus: Bus, postgres_server, cdrs):
    settings = CdrSinkSettings(
        kafka_bootstrap=bus.bootstrap,
        database_url=postgres_server.database_url,
        cdr_batch_timeout_ms=20,
        consumer_max_retries=0,
        log_level="WARNING",
    )
    return build_app(settings)


async def row(cdrs, call_key: str, **expected):
    """The CDR of ``call_key`` once it is there (with the ``expected`` values, when given)."""

    async def landed():  # type: ignore[no-untyped-def]
        found = await cdrs.fetchrow("SELECT * FROM cdrs WHERE call_key = $1", call_key)
        return found if found and all(found[k] == v for k, v in expected.items()) else None

    return await wait_for(landed, 30, 0.1)


async def test_a_session_ended_lands_as_one_cdr_however_often_it_is_delivered(bus, sink_app, cdrs):
    ended = session_ended()
    async with bus.running(sink_app, capture=(Topic.SESSIONS_ENDED.dlq,)):
        for _ in range(2):
            await bus.publish(Topic.SESSIONS_ENDED.value, encode(ended), key=ended.call_key.encode())
        first = await row(cdrs, ended.call_key)
        await bus.publish(Topic.SESSIONS_ENDED.value, encode(session_ended(duration_s=50)), key=ended.call_key.encode())
        corrected = await row(cdrs, ended.call_key, duration_s=50)
        await bus.settled(GROUP_ID, Topic.SESSIONS_ENDED.value)  # offsets committed after the database
    assert (first["status"], first["duration_s"], first["flow_id"]) == ("completed", 48, "survey")
    assert corrected["created_at"] == first["created_at"]
    assert await cdrs.fetchval("SELECT count(*) FROM cdrs") == 1


async def test_each_committed_cdr_is_published_on_voice_cdrs_as_the_table_holds_it(bus, sink_app, cdrs):
    ended = session_ended()
    async with bus.running(sink_app, capture=(Topic.CDRS.value,)):
        await bus.publish(Topic.SESSIONS_ENDED.value, encode(ended), key=ended.call_key.encode())
        stored = await row(cdrs, ended.call_key)
        await bus.settled(GROUP_ID, Topic.SESSIONS_ENDED.value)
        (record,) = await bus.published(Topic.CDRS.value, key=ended.call_key.encode())
    cdr = decode(CdrRecorded, record.value)  # the versioned model analytics consumes
    assert (cdr.call_key, cdr.status, cdr.duration_s, cdr.cost) == (
        stored["call_key"], stored["status"], stored["duration_s"], stored["cost"],
    )  # fmt: skip
    assert cdr.call_start == stored["call_start"] and cdr.recorded_at == stored["updated_at"]
    assert cdr.inputs == ended.inputs and cdr.trail == ended.trail


async def test_a_poison_record_is_dead_lettered_and_the_batch_still_lands(bus, sink_app, cdrs):
    ended = session_ended()
    async with bus.running(sink_app, capture=(Topic.SESSIONS_ENDED.dlq,)):
        await bus.publish(Topic.SESSIONS_ENDED.value, b'{"call_key": 1}', key=b"poison")
        await bus.publish(Topic.SESSIONS_ENDED.value, encode(ended), key=ended.call_key.encode())
        await row(cdrs, ended.call_key)
        await bus.settled(GROUP_ID, Topic.SESSIONS_ENDED.value)
        (dead,) = await bus.published(Topic.SESSIONS_ENDED.dlq)
    assert dead.value == b'{"call_key": 1}' and dead.key == b"poison"
    assert dead.headers["x-source-topic"] == Topic.SESSIONS_ENDED.value


async def test_a_refused_dial_becomes_a_failed_cdr_and_an_accepted_one_none(memory_bus, postgres_server, cdrs):
    settings = CdrSinkSettings(
        kafka_bootstrap=memory_bus.bootstrap, database_url=postgres_server.database_url, log_level="WARNING"
    )
    no = dial_attempt()
    yes = dial_attempt(call_id="c-2", accepted=True, call_key="africastalking:A2", provider_status="Queued")
    async with memory_bus.running(build_app(settings)):
        for attempt in (no, yes):
            await memory_bus.publish(Topic.DIAL_ATTEMPTS.value, encode(attempt), key=attempt.call_id.encode())
        failed = await row(cdrs, "africastalking:rejected:c-1")
    assert (failed["status"], failed["hangup_cause"]) == ("failed", "InvalidPhoneNumber")
    assert await cdrs.fetchval("SELECT count(*) FROM cdrs") == 1  # the accepted call gets its CDR when it ends
