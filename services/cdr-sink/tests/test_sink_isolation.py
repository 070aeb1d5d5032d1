"""The cdr-sink as a process between a real Tansu and a real PostgreSQL.

- Records that can never be written, mixed into good ones: every good record lands, each bad one is
  in its dead-letter topic exactly once with the reason in headers, the sink stays ready.
- PostgreSQL stopped under the sink: nothing is dead-lettered, the sink says it is retrying (then not
  ready), and every row lands once the database is back.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from switchboard.events import CallStatus, DialAttempt, Direction, SessionEnded, encode
from switchboard.topics import Topic
from switchboard_devstack.testing import group_lag, read_topic

pytestmark = pytest.mark.integration


async def wait_for(predicate: Callable[[], Awaitable[Any]], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := await predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        await asyncio.sleep(0.2)
    return value


def good_session(key: str) -> bytes:
    return encode(
        SessionEnded(
            call_key=key,
            provider="africastalking",
            direction=Direction.INBOUND,
            caller_number="+254700000001",
            destination_number="+254711000200",
            status=CallStatus.COMPLETED,
            hangup_cause="NORMAL_CLEARING",
            ended_at=datetime.now(UTC),
            duration_s=48,
            cost=Decimal("4.800"),
            currency="KES",
            inputs={"menu": "1"},
        )
    )


def refused_by_the_schema(key: str, change: dict[str, Any]) -> bytes:
    """A CDR with a field out of the table's bounds (a 100-character cause, a 12-character
    currency, a cost of 1e20, a duration of 2^40 s): PostgreSQL refused these, blocking the
    partition, until the event schema took the table's bounds; now the sink's schema refuses them."""
    return orjson.dumps({**orjson.loads(good_session(key)), **change})


def rejected_dial(call_id: str, change: dict[str, Any]) -> bytes:
    """A dial the provider refused, with one field longer than its CDR column: the event schema
    accepts it, PostgreSQL refuses the row (the case the sink's isolation exists for)."""
    fields: dict[str, Any] = {
        "request_id": str(uuid.uuid4()),
        "call_id": call_id,
        "provider": "africastalking",
        "accepted": False,
        "provider_status": "InvalidPhoneNumber",
        "to": "+254700000002",
        "caller_id": "+254711000100",
        "flow": "survey",
        "requested_at": datetime.now(UTC),
        **change,
    }
    return encode(DialAttempt(**fields))


OUT_OF_THE_TABLES_BOUNDS = [
    {"hangup_cause": "X" * 100},
    {"currency": "KESKESKESKES"},
    {"cost": "1e20"},
    {"duration_s": 2**40},
]
TOO_LONG_FOR_THE_TABLE = [
    {"to": "+" + "2" * 99},
    {"account": "a" * 65},
    {"caller_id": "+" + "1" * 64},
]


async def publish(bootstrap: str, records: list[tuple[str, bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for topic, key, value in records]
        for future in futures:
            await future
    finally:
        await producer.stop()


async def sink_lag(bootstrap: str) -> int:
    """Records on the sink's topics not yet committed by its consumer group."""
    topics = (Topic.SESSIONS_ENDED.value, Topic.DIAL_ATTEMPTS.value)
    return sum([await group_lag(bootstrap, "cdr-sink", topic) for topic in topics])


async def landed(url: str, keys: list[str]) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT call_key FROM cdrs WHERE call_key = ANY($1::text[])", keys)
        return {row["call_key"] for row in rows}
    finally:
        await conn.close()


def dead_letters(records: list[Any], keys: set[bytes]) -> dict[bytes, list[dict[str, str]]]:
    """Dead-letter records by key (only ``keys``), each as its headers."""
    found: dict[bytes, list[dict[str, str]]] = {}
    for record in records:
        if record.key in keys:
            found.setdefault(record.key, []).append({k: v.decode() for k, v in record.headers})
    return found


async def poison_among_good(sink: Any, good_count: int) -> None:
    run = uuid.uuid4().hex[:8]
    good = [f"africastalking:good-{run}-{i}" for i in range(good_count)]
    schema_bad = {f"africastalking:bounds-{run}-{i}": change for i, change in enumerate(OUT_OF_THE_TABLES_BOUNDS)}
    db_bad = {f"call-{run}-{i}": change for i, change in enumerate(TOO_LONG_FOR_THE_TABLE)}
    records = [(Topic.SESSIONS_ENDED.value, key.encode(), good_session(key)) for key in good]
    bad = [(Topic.SESSIONS_ENDED.value, k.encode(), refused_by_the_schema(k, c)) for k, c in schema_bad.items()]
    bad += [(Topic.DIAL_ATTEMPTS.value, k.encode(), rejected_dial(k, c)) for k, c in db_bad.items()]
    for record in bad:
        records.insert(random.randrange(len(records) + 1), record)
    _, before = sink.ready()

    await publish(sink.bootstrap, records)

    async def all_good_landed() -> bool:
        return len(await landed(sink.database_url, good)) == len(good)

    await wait_for(all_good_landed, 60 + good_count / 50, "every good CDR in PostgreSQL")

    async def caught_up() -> bool:
        return await sink_lag(sink.bootstrap) == 0

    await wait_for(caught_up, 30, "the sink's offsets committed past every record")
    session_dlq = dead_letters(
        await read_topic(sink.bootstrap, Topic.SESSIONS_ENDED.dlq, idle_s=1.5), {k.encode() for k in schema_bad}
    )
    dial_dlq = dead_letters(
        await read_topic(sink.bootstrap, Topic.DIAL_ATTEMPTS.dlq, idle_s=1.5), {k.encode() for k in db_bad}
    )
    # each bad record exactly once, with the reason
    assert {k: len(v) for k, v in session_dlq.items()} == {k.encode(): 1 for k in schema_bad}
    assert {k: len(v) for k, v in dial_dlq.items()} == {k.encode(): 1 for k in db_bad}
    for key, change in schema_bad.items():
        (headers,) = session_dlq[key.encode()]
        assert headers["x-error-class"] == "ValidationError" and headers["x-source-topic"] == Topic.SESSIONS_ENDED
        assert headers["x-error-field"] == next(iter(change)), headers
    for (headers,) in dial_dlq.values():
        assert headers["x-error-sqlstate"] == "22001", headers
        assert headers["x-error-class"] == "StringDataRightTruncationError"
        assert "value too long" in headers["x-error"] and "INSERT" not in headers["x-error"]
        assert {"x-source-partition", "x-source-offset"} <= set(headers)
    assert await landed(sink.database_url, list(schema_bad)) == set()
    # the sink stayed ready and counts what it dead-lettered
    status, after = sink.ready()
    assert status == 200 and after["sink"] is True and after["sink_state"]["state"] == "ok"
    by_reason, was = after["sink_state"]["dead_lettered_by_reason"], before["sink_state"]["dead_lettered_by_reason"]
    assert by_reason["schema"] - was["schema"] == len(schema_bad)
    assert by_reason["database"] - was["database"] == len(db_bad)
    # each dead-lettered record logged once, with its reason
    lines = [orjson.loads(line) for line in sink.log().splitlines() if '"event dead-lettered"' in line]
    for key in [*schema_bad, *db_bad]:
        logged = [line for line in lines if line.get("key") == key]
        assert len(logged) == 1 and logged[0]["error"], (key, logged)


async def test_poison_records_among_500_good_ones(sink):
    await poison_among_good(sink, 500)


@pytest.mark.slow
async def test_poison_records_among_5000_good_ones(sink):
    await poison_among_good(sink, 5000)


async def test_database_outage_pauses_the_sink_and_dead_letters_nothing(sink):
    run = uuid.uuid4().hex[:8]
    keys = [f"africastalking:outage-{run}-{i}" for i in range(50)]
    _, before = sink.ready()
    await asyncio.to_thread(sink.stop_postgres)
    try:
        await publish(sink.bootstrap, [(Topic.SESSIONS_ENDED.value, k.encode(), good_session(k)) for k in keys])

        async def retrying() -> dict[str, Any] | None:
            status, body = sink.ready()
            state = body["sink_state"]
            return body if status == 503 and state["state"] == "retrying" and body["sink"] is False else None

        # past SB_TRANSIENT_RETRY_S the batch has been handed back and read again at least once
        body = await wait_for(retrying, sink.retry_s + 20, "the sink reporting a long outage")
        assert body["postgres"] is False and body["sink_state"]["db_retries"] > before["sink_state"]["db_retries"]
    finally:
        await asyncio.to_thread(sink.start_postgres)  # it runs its own event loop

    async def all_landed() -> bool:
        return len(await landed(sink.database_url, keys)) == len(keys)

    await wait_for(all_landed, 60, "every CDR in PostgreSQL after the outage")
    status, after = sink.ready()
    assert status == 200 and after["sink_state"]["state"] == "ok"
    assert after["sink_state"]["dead_lettered"] == before["sink_state"]["dead_lettered"]
    dlq = await read_topic(sink.bootstrap, Topic.SESSIONS_ENDED.dlq, idle_s=1.5)
    assert dead_letters(dlq, {k.encode() for k in keys}) == {}
    assert "database unavailable; batch paused, not dead-lettered" in sink.log()
