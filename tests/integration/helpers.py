"""Helpers for tests against the real stack: CDR look-ups, topic reads, simulator control."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer

from switchboard.testing import says
from switchboard_devstack.stack import Stack

__all__ = ["cdr", "group_lag", "read_topic", "says", "sim_call", "wait_cdr", "wait_for"]


def auth(stack: Stack) -> dict[str, str]:
    """The local tenant's API key as a Bearer header (``make up`` writes it to ``api-key.json``)."""
    return {"Authorization": f"Bearer {stack.api_key()}"}


async def wait_for(predicate, timeout_s: float = 30, interval_s: float = 0.2) -> Any:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(interval_s)


async def cdr(stack: Stack, call_key: str) -> dict[str, Any] | None:
    conn = await asyncpg.connect(stack.config.database_url)
    try:
        row = await conn.fetchrow("SELECT * FROM cdrs WHERE call_key = $1", call_key)
        return dict(row) if row else None
    finally:
        await conn.close()


async def wait_cdr(stack: Stack, call_key: str, timeout_s: float = 30) -> dict[str, Any]:
    async def check():  # type: ignore[no-untyped-def]
        return await cdr(stack, call_key)

    return await wait_for(check, timeout_s)


async def read_topic(stack: Stack, topic: str, *, key: bytes | None = None, idle_s: float = 2.0) -> list[Any]:
    """Every record on ``topic`` (from the beginning, with a fresh group), optionally by key."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.config.kafka_bootstrap,
        group_id=f"test-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=int(idle_s * 1000))
            if not batch:
                break
            for items in batch.values():
                records.extend(r for r in items if key is None or r.key == key)
    finally:
        await consumer.stop()
    return records


async def sim_call(http: httpx.AsyncClient, stack: Stack, session_id: str, *, ended: bool = True) -> dict[str, Any]:
    async def check():  # type: ignore[no-untyped-def]
        r = await http.get(f"{stack.config.sim_url}/sim/calls/{session_id}")
        data = r.json()
        return data if (not ended or data["final_posted"]) else None

    return await wait_for(check, 30)


async def group_lag(bootstrap: str, group: str, topic: str) -> int:
    """Records on ``topic`` not yet committed by consumer group ``group`` (read without joining
    the group: ``committed()`` needs only the group id)."""
    from aiokafka import TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        ends = await consumer.end_offsets(tps)
        lag = 0
        for tp in tps:
            committed = await consumer.committed(tp)
            lag += max(0, ends[tp] - (committed or 0))  # Tansu's end offset can trail by a record
        return lag
    finally:
        await consumer.stop()
