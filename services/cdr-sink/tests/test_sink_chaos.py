"""Chaos (slow): SIGKILL the cdr-sink five times while 20,000 SessionEnded events flow, restart it
each time; then every event is exactly one CDR and the table equals what was published.

    uv run pytest services/cdr-sink/tests/test_sink_chaos.py -m slow -q
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from switchboard.events import CallStatus, Direction, SessionEnded, encode
from switchboard.topics import Topic
from switchboard_devstack.stack import Stack, StackConfig

pytestmark = [pytest.mark.slow, pytest.mark.integration]

EVENTS = 20_000
KILLS = 5


def event(run: str, i: int) -> SessionEnded:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i * 7)  # spans several monthly partitions
    return SessionEnded(
        call_key=f"africastalking:chaos-{run}-{i:06d}",
        call_id=f"chaos-{run}-{i:06d}",
        provider="africastalking",
        direction=Direction.OUTBOUND,
        caller_number="+254711000100",
        destination_number=f"+2547{i:08d}",
        status=CallStatus.COMPLETED,
        started_at=start,
        ended_at=start + timedelta(seconds=i % 600),
        duration_s=i % 600,
        inputs={"rating": str(i % 5 + 1)},
    )


@pytest.fixture
def stack():  # type: ignore[no-untyped-def]
    root = Path(tempfile.mkdtemp(prefix="sb-sink-chaos-"))
    os.chmod(root, 0o755)
    stack = Stack(StackConfig.ephemeral(root, partitions=2))
    try:
        stack.start_kafka()
        stack.start_postgres()
        stack.migrate()
        stack.start("cdr-sink")
        yield stack
    finally:
        stack.down()
        shutil.rmtree(root, ignore_errors=True)


async def test_five_sigkills_lose_and_duplicate_nothing(stack):
    run = uuid.uuid4().hex[:6]
    events = [event(run, i) for i in range(EVENTS)]
    producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap, acks="all", linger_ms=5)
    await producer.start()
    db = await asyncpg.connect(stack.config.database_url)
    kills = 0
    try:

        async def publish() -> None:
            for n, e in enumerate(events):
                await producer.send(Topic.SESSIONS_ENDED.value, encode(e), key=e.call_key.encode())
                if n % 500 == 499:
                    await producer.flush()
                    await asyncio.sleep(0.4)  # ~1,000 a second: 20 s of flow, the kills land in it
            await producer.flush()

        publishing = asyncio.create_task(publish())
        while kills < KILLS:
            await asyncio.sleep(1.0)
            stack.kill("cdr-sink")  # SIGKILL: no shutdown, no offset commit
            kills += 1
            await asyncio.to_thread(stack.start, "cdr-sink")
        await publishing
        deadline = time.monotonic() + 180
        while (
            landed := await db.fetchval("SELECT count(*) FROM cdrs WHERE call_key LIKE $1", f"%chaos-{run}-%")
        ) < EVENTS:
            assert time.monotonic() < deadline, f"{landed}/{EVENTS} CDRs after 180 s"
            await asyncio.sleep(0.5)
        rows = await db.fetch(
            "SELECT call_key, duration_s, started_at, call_start FROM cdrs WHERE call_key LIKE $1", f"%chaos-{run}-%"
        )
    finally:
        await producer.stop()
        await db.close()
    assert kills == KILLS
    keys = [r["call_key"] for r in rows]
    assert len(keys) == len(set(keys)) == EVENTS  # 0 lost, 0 duplicates
    published = {e.call_key: (e.duration_s, e.started_at) for e in events}
    assert {r["call_key"]: (r["duration_s"], r["started_at"]) for r in rows} == published
    assert all(r["call_start"] == r["started_at"] for r in rows)
