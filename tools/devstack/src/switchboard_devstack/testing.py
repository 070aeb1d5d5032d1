"""Test harness on the stack's own parts: one service's ``build_app(settings)`` run against
FastStream's in-memory ``TestKafkaBroker`` or a real Tansu, with real Redis/PostgreSQL processes.

The processes are started by :class:`~switchboard_devstack.stack.Stack` (the code ``make up``
runs), one part at a time, on free ports under a temporary folder: :func:`redis_process`,
:func:`postgres_process` (migrated), :func:`tansu_process`.

:class:`Bus` lets one test body run both ways (STYLE §10): ``bus.running(app)`` starts the app's
lifespan (on the in-memory broker, or consuming from Tansu); ``bus.publish`` puts a record on a
topic (in memory the subscriber runs before ``publish`` returns); ``bus.published(topic)`` lists
what landed on a topic; ``bus.settled(group, topic)`` returns once the consumer group has
*committed* every record of the topic on Tansu (in memory there are no offsets, so it returns at
once). What only a real broker shows (commits, redelivery) is therefore checked by the Tansu variant
of the same test.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker

from switchboard.kafka import group_lag, partitions_of
from switchboard_devstack.stack import Stack, StackConfig, free_port

T = TypeVar("T")
MEMORY_BOOTSTRAP = "127.0.0.1:9"  # never dialled: TestKafkaBroker replaces the connection


async def wait_for(predicate: Callable[[], Awaitable[T]], timeout_s: float = 30, interval_s: float = 0.2) -> T:
    """Poll ``predicate`` until it returns something truthy (and return that), at most
    ``timeout_s`` seconds; raises ``AssertionError`` past the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(interval_s)


# --- processes -----------------------------------------------------------------------------------
@contextlib.contextmanager
def _part(name: str, start: Callable[[Stack], None], stop: tuple[str, ...]) -> Iterator[StackConfig]:
    root = Path(tempfile.mkdtemp(prefix=f"sb-{name}-"))
    stack = Stack(StackConfig.ephemeral(root, partitions=2))
    try:
        start(stack)
        yield stack.config
    finally:
        for process in stop:
            stack.stop(process)
        shutil.rmtree(root, ignore_errors=True)


def redis_process() -> contextlib.AbstractContextManager[StackConfig]:
    """A ``redis-server`` on a free port; ``.redis_url`` of the config yielded."""
    return _part("redis", Stack.start_redis, ("redis",))


def postgres_process() -> contextlib.AbstractContextManager[StackConfig]:
    """A PostgreSQL with the ``switchboard`` database at the cdr-sink's latest migration;
    ``.database_url`` of the config yielded."""

    def start(stack: Stack) -> None:
        # the migrations in this process (``Stack.migrate`` runs them in a child, which costs a
        # Python start-up and every import again: seconds on a loaded machine)
        from switchboard_cdr_sink.migrate import upgrade

        stack.start_postgres()
        upgrade(stack.config.database_url)

    return _part("postgres", start, ("postgres",))


def tansu_process() -> contextlib.AbstractContextManager[StackConfig]:
    """A Tansu broker with Switchboard's topics; ``.kafka_bootstrap`` of the config yielded."""
    return _part("tansu", Stack.start_kafka, ("tansu",))


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free port for the block; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers no start event to await
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


# --- Kafka reads -----------------------------------------------------------------------------------
async def read_topic(bootstrap: str, topic: str, *, key: bytes | None = None, idle_s: float = 2.0) -> list[Any]:
    """Every record on ``topic`` from the beginning (optionally by ``key``), read until none has
    come for ``idle_s``. Every partition is assigned to a consumer of no group: a group's join
    costs 3 to 5 s on Tansu, per call. A topic that does not exist yet has no records."""
    partitions = await partitions_of(bootstrap, topic)
    if not partitions:
        await asyncio.sleep(idle_s)  # as a group's reader would have waited for its first record
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        await consumer.seek_to_beginning()
        while True:
            batch = await consumer.getmany(timeout_ms=int(idle_s * 1000))
            if not batch:
                break
            for items in batch.values():
                records.extend(r for r in items if key is None or r.key == key)
    finally:
        await consumer.stop()
    return records


# --- one test body, two brokers ----------------------------------------------------------------------
@dataclass(frozen=True)
class Record:
    """A record as a test sees it, from either broker. ``headers``: decoded to text."""

    key: bytes | None
    value: bytes
    headers: dict[str, str]


@dataclass
class Bus:
    """See the module docstring. ``mode``: ``memory`` or ``tansu``; ``bootstrap``: what to put in
    the services' ``kafka_bootstrap`` setting."""

    mode: Literal["memory", "tansu"]
    bootstrap: str = MEMORY_BOOTSTRAP
    _brokers: list[KafkaBroker] = field(default_factory=list)
    _captured: dict[str, list[Record]] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def running(self, *apps: FastAPI, capture: tuple[str, ...] = ()) -> AsyncIterator[None]:
        """Run each app's lifespan for the block. In memory, records published on the ``capture``
        topics are kept for :meth:`published` (on Tansu every topic is read back instead)."""
        self._brokers = [app.state.broker for app in apps]
        async with contextlib.AsyncExitStack() as stack:
            if self.mode == "memory":
                for topic in capture:
                    self._capture(self._brokers[0], topic)
                await stack.enter_async_context(TestKafkaBroker(*self._brokers))
            for app in apps:
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    def _capture(self, broker: KafkaBroker, topic: str) -> None:
        kept = self._captured.setdefault(topic, [])

        @broker.subscriber(topic)
        async def keep(msg: KafkaMessage) -> None:
            raw = msg.raw_message
            kept.append(Record(getattr(raw, "key", None) or None, msg.body, dict(msg.headers)))

    async def publish(self, topic: str, value: bytes, *, key: bytes) -> None:
        """Put ``value`` on ``topic`` as a producer outside the services would."""
        if self.mode == "memory":
            await self._brokers[0].publish(value, topic, key=key)
            return
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    async def published(self, topic: str, *, key: bytes | None = None) -> list[Record]:
        """What landed on ``topic`` (by ``key`` when given), oldest first."""
        if self.mode == "memory":
            return [r for r in self._captured.get(topic, []) if key is None or r.key == key]
        records = await read_topic(self.bootstrap, topic, key=key, idle_s=0.5)
        return [Record(r.key, r.value, {k: v.decode() for k, v in r.headers}) for r in records]

    async def settled(self, group: str, topic: str, timeout_s: float = 30) -> None:
        """Return once ``group`` has committed everything on ``topic`` (Tansu); at once in memory."""
        if self.mode == "memory":
            return

        async def drained() -> bool:
            return await group_lag(self.bootstrap, group, topic) == 0

        await wait_for(drained, timeout_s, 0.2)
