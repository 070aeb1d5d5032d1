"""Kafka helpers: the broker factory, topic creation and the guarded handler (retry → DLQ).

Delivery (ARCHITECTURE §7): producers use ``acks=all`` and no linger; idempotence is a setting
(on for Apache Kafka, off for Tansu, which refuses ``InitProducerId``). Consumers commit after
processing (``AckPolicy.ACK``) with an explicit group id. :func:`run_guarded` never lets an
exception reach FastStream: an :class:`~switchboard.errors.InvalidEvent` goes straight to
``<topic>.dlq``; a transient failure (Redis or the broker unreachable or timing out,
:class:`~switchboard.errors.TransientError`) is retried with backoff for ``transient_retry_s``
(longer than a failover), which holds the partition where it is rather than dead-lettering live
events; anything else (a bug) is retried ``max_retries`` times and then dead-lettered, so a poison
message is neither lost silently nor re-read forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
    TopicAlreadyExistsError,
)
from aiokafka.partitioner import DefaultPartitioner
from faststream.exceptions import IncorrectState
from faststream.kafka import KafkaBroker, KafkaPublishMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import AsyncRetrying, RetryCallState, retry_if_not_exception_type, wait_exponential

from switchboard import metrics, tracing
from switchboard.errors import InvalidEvent, TransientError
from switchboard.logging import get_logger
from switchboard.settings import ServiceSettings
from switchboard.tasks import cancel_and_wait
from switchboard.topics import all_topic_names

log = get_logger(__name__)
FASTSTREAM_LOG = logging.getLogger("faststream.switchboard")
FASTSTREAM_LOG.setLevel(logging.WARNING)


def make_broker(settings: ServiceSettings, *, client_id: str) -> KafkaBroker:
    """A FastStream Kafka broker for ``settings.kafka_bootstrap`` with acks=all, linger 0.
    FastStream's own log keeps its warnings and errors (a message it cannot hand to a handler
    must not fail silently) but not its two INFO lines per message.

    Middlewares: FastStream's Prometheus middleware (``faststream_received_messages_total``,
    ``faststream_received_processed_messages_duration_seconds``, ``faststream_published_messages_total``
    … by handler and topic, labelled ``app_name`` = ``client_id``) on the process's registry, and,
    when tracing is on (:mod:`switchboard.tracing`), its OpenTelemetry middleware: a span per
    publish and per message processed, the context carried in the records' headers."""
    middlewares: list[Any] = [KafkaPrometheusMiddleware(registry=REGISTRY, app_name=client_id)]
    if (tracer_provider := tracing.provider(client_id)) is not None:
        middlewares.append(KafkaTelemetryMiddleware(tracer_provider=tracer_provider))
    return Broker(
        settings.kafka_bootstrap.split(","),
        client_id=client_id,
        acks="all",
        linger_ms=0,
        enable_idempotence=settings.kafka_idempotence,
        request_timeout_ms=10_000,
        max_batch_size=MAX_BATCH_BYTES,
        logger=FASTSTREAM_LOG,
        middlewares=middlewares,
    )


class Broker(KafkaBroker):
    """FastStream's Kafka broker, whose subscribers join their consumer groups all at once.

    FastStream starts subscribers one after another, and a consumer's start waits for its group
    to form: 3 s on Tansu, which holds every rebalance that long, and on Apache Kafka for a new
    group (``group.initial.rebalance.delay.ms``, 3 s by default). A dialer has four groups, so
    it took 16 s to consume on Tansu, one join after another; together they take one join.
    (FastStream's in-memory test broker replaces ``start`` on the instance, so it is unaffected.)"""

    async def start(self) -> None:
        """Connect, start every subscriber at once, then the publishers. When a subscriber's start
        fails, the others' are cancelled and the broker is stopped before the error is raised."""
        await self.connect()
        starts = [asyncio.ensure_future(sub.start()) for sub in self.subscribers]
        try:
            await asyncio.gather(*starts)
        except BaseException:
            for start in starts:
                start.cancel()
            await asyncio.gather(*starts, return_exceptions=True)
            await self.stop()
            raise
        for pub in self.publishers:
            await pub.start()
        self.running = True


MAX_BATCH_BYTES = 512 * 1024
"""The producer's largest record batch (aiokafka's default is 16 KiB): room for a
:class:`KeyedBatches` request, well under a broker's default ``message.max.bytes`` (1 MiB)."""
RECORD_OVERHEAD_BYTES = 64
"""A record's framing in a batch beyond its key and value (length, attributes, deltas, headers
count; FastStream's ``correlation_id`` header is counted apart), rounded up."""


class KeyedBatches:
    """Publishes many keyed records to one topic with one produce request per partition and
    chunk, instead of one call per record (a FastStream ``publish`` costs ~20 µs of CPU per
    record here, a batch ~6 µs: ``bench/cdr_sink.py``).

    Each record goes to the partition Kafka's default partitioner gives its key (murmur2 of the
    key modulo the partition count, as aiokafka and the Java client choose it for a keyed
    record), so a key's records keep the partition and order they would have had one by one.
    The topic's partition count is read once from the cluster (metadata through the broker's
    admin client) and cached; a restarted process reads it again.
    """

    def __init__(self, broker: KafkaBroker, topic: str, *, max_bytes: int = MAX_BATCH_BYTES // 2) -> None:
        self.broker = broker
        self.topic = topic
        self.max_bytes = max_bytes
        self._partitions: list[int] | None = None
        self._partitioner = DefaultPartitioner()

    async def partitions(self) -> list[int]:
        """The topic's partition ids. Raises ``KafkaError`` when the cluster cannot be read."""
        if self._partitions is None:
            try:
                admin = self.broker.config.admin_client
            except IncorrectState:  # FastStream's in-memory test broker: no cluster, one partition
                self._partitions = [0]
                return self._partitions
            (described,) = await admin.describe_topics([self.topic])
            ids = sorted(p["partition"] for p in described["partitions"])
            if not ids:
                raise KafkaConnectionError(f"no partitions known for {self.topic}")
            self._partitions = ids
        return self._partitions

    async def publish(self, records: list[tuple[bytes, bytes]]) -> None:
        """Send ``records`` (key, value) and wait until Kafka has acknowledged every one
        (``acks=all``). Raises what the producer raises (``KafkaError``, timeouts)."""
        if not records:
            return
        ids = await self.partitions()
        by_partition: dict[int, list[tuple[bytes, bytes]]] = {}
        for key, value in records:
            by_partition.setdefault(self._partitioner(key, ids, ids), []).append((key, value))
        deliveries = []
        for partition, items in by_partition.items():
            chunk: list[KafkaPublishMessage] = []
            size = 0
            for key, value in items:
                length = len(key) + len(value) + RECORD_OVERHEAD_BYTES + 64
                if chunk and size + length > self.max_bytes:
                    deliveries.append(await self._send(chunk, partition))
                    chunk, size = [], 0
                chunk.append(KafkaPublishMessage(value, key=key))
                size += length
            deliveries.append(await self._send(chunk, partition))
        await asyncio.gather(*(d for d in deliveries if asyncio.isfuture(d)))

    async def _send(self, chunk: list[KafkaPublishMessage], partition: int) -> Any:
        return await self.broker.publish_batch(*chunk, topic=self.topic, partition=partition, no_confirm=True)


async def create_topics(
    bootstrap: str, *, partitions: int = 8, names: list[str] | None = None, replication_factor: int = 1
) -> list[str]:
    """Create Switchboard's topics (and their DLQs) if missing, each with ``partitions`` partitions
    and ``replication_factor`` replicas (3 on a production cluster). Returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [n for n in (names or all_topic_names()) if n not in existing]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(n, partitions, replication_factor) for n in wanted])
        return wanted
    finally:
        await admin.close()


async def publish_dlq(
    broker: KafkaBroker,
    topic: str,
    *,
    body: bytes,
    key: bytes | None,
    error: BaseException,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send the original bytes to ``<topic>.dlq`` with the error class and message in headers
    (``x-error-class``, ``x-error``, ``x-source-topic``, ``x-error-field``), plus ``headers``,
    which override them. Logs the record once, with its reason."""
    field = getattr(error, "field", None)
    all_headers = {
        "x-error-class": type(error).__name__,
        "x-error": str(error)[:2000],
        "x-source-topic": topic,
    }
    if field:
        all_headers["x-error-field"] = str(field)
    all_headers.update(headers or {})
    await broker.publish(body, f"{topic}.dlq", key=key, headers=all_headers)
    metrics.DLQ_RECORDS.labels(topic).inc()
    log.error(
        "event dead-lettered",
        topic=topic,
        key=key.decode(errors="replace") if key else None,
        error=all_headers["x-error"][:500],
        error_class=all_headers["x-error-class"],
        field=field,
        **{
            k.removeprefix("x-").replace("-", "_"): v
            for k, v in (headers or {}).items()
            if k not in ("x-error", "x-error-class")
        },
    )


TRANSIENT: tuple[type[BaseException], ...] = (
    TransientError,
    RedisConnectionError,
    RedisTimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
    RequestTimedOutError,
    NodeNotReadyError,
    TimeoutError,
    ConnectionError,
)
"""Failures of a dependency that go away by themselves: retried, never dead-lettered at once."""


def is_transient(exc: BaseException | None) -> bool:
    return isinstance(exc, TRANSIENT)


async def run_guarded(
    broker: KafkaBroker,
    topic: str,
    *,
    body: bytes,
    key: bytes | None,
    handle: Callable[[], Awaitable[Any]],
    max_retries: int,
    transient_retry_s: float = 30.0,
) -> None:
    """Run ``handle()``. A transient failure (:data:`TRANSIENT`) is retried with backoff (capped at
    2 s) for up to ``transient_retry_s`` seconds; any other failure ``max_retries`` times; then the
    message is dead-lettered with the error in its headers.

    ``InvalidEvent`` and pydantic ``ValidationError`` are not retried: they can never succeed.
    """

    started = time.monotonic()
    try:  # the first try without tenacity's machinery: it costs ~4 % of a runner's CPU per message
        await handle()
        return
    except Exception as exc:
        if isinstance(exc, InvalidEvent | ValidationError) or (not is_transient(exc) and max_retries < 1):
            await publish_dlq(broker, topic, body=body, key=key, error=exc)
            return
        if is_transient(exc):
            log.warning("dependency unavailable; retrying", topic=topic, error=repr(exc), attempt=1)

    def give_up(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        attempts = state.attempt_number + 1  # with the first try above
        if is_transient(exc):
            if time.monotonic() - started >= transient_retry_s:
                return True
            log.warning("dependency unavailable; retrying", topic=topic, error=repr(exc), attempt=attempts)
            return False
        return attempts > max_retries

    try:
        async for attempt in AsyncRetrying(
            stop=give_up,
            wait=wait_exponential(multiplier=0.05, max=2),
            retry=retry_if_not_exception_type((InvalidEvent, ValidationError)),
            reraise=True,
        ):
            with attempt:
                await handle()
    except Exception as exc:
        await publish_dlq(broker, topic, body=body, key=key, error=exc)


class OffsetCommitter:
    """Commit processed offsets every ``interval_s`` instead of once per message.

    A per-message commit is a broker round trip on the critical path of every callback. Handlers
    call :meth:`mark` after a record is fully processed; a background task commits the highest
    marked offset + 1 per partition. Each partition is processed in order, so everything below a
    committed offset is done: still at least once. A crash (or a rebalance that revokes a partition
    before the next flush) redelivers at most ``interval_s`` worth of records, which the consumers'
    idempotence absorbs. ``stop`` flushes what is left.
    """

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s = interval_s
        self._pending: dict[Any, dict[TopicPartition, int]] = {}
        self._task: asyncio.Task[None] | None = None

    def mark(self, consumer: Any, record: Any) -> None:
        """``record`` (an aiokafka ``ConsumerRecord``) has been processed by ``consumer``."""
        offsets = self._pending.setdefault(consumer, {})
        tp = TopicPartition(record.topic, record.partition)
        offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for consumer, offsets in pending.items():
            try:
                await consumer.commit(offsets)
            except Exception as exc:  # revoked partitions: their records are redelivered, not lost
                log.warning("offset commit failed; records will be redelivered", error=repr(exc))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.flush()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        await self.flush()


async def partitions_of(bootstrap: str, topic: str) -> list[int]:
    """``topic``'s partition ids, from the admin client's ``describe_topics``; none when the topic
    does not exist yet (Tansu creates it on the question). (A consumer that has subscribed to
    nothing knows no topic: Apache Kafka answers its start-up metadata request, for no topic, with
    none; Tansu with all.)"""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(p["partition"] for p in described.get("partitions") or [])


async def group_lag(bootstrap: str, group: str, topic: str) -> int:
    """Records on ``topic`` not yet committed by consumer group ``group``, summed over its
    partitions (read without joining the group: ``committed()`` needs only the group id). A
    partition the group never committed counts from offset 0."""
    from aiokafka import AIOKafkaConsumer

    tps = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
    if not tps:
        return 0
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
        lag = 0
        for tp in tps:
            committed = await consumer.committed(tp)
            lag += max(0, ends[tp] - (committed or 0))  # Tansu's end offset can trail by a record
        return lag
    finally:
        await consumer.stop()
