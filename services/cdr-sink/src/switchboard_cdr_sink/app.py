"""cdr-sink composition root: settings → logging → database → broker → batch subscriber → health."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import FastAPI
from faststream import AckPolicy
from faststream.kafka import KafkaMessage
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from switchboard.events import DialAttempt, SessionEnded, decode
from switchboard.kafka import KeyedBatches, make_broker, publish_dlq
from switchboard.logging import configure_logging, get_logger
from switchboard.service import service_app
from switchboard.tasks import cancel_and_wait
from switchboard.topics import Topic
from switchboard_cdr_sink.partitions import maintain
from switchboard_cdr_sink.settings import CdrSinkSettings
from switchboard_cdr_sink.store import row_from_rejected_dial, row_from_session
from switchboard_cdr_sink.writer import BatchWriter, Pending, SinkHealth, database_error, sqlstate_of

GROUP_ID = "cdr-sink"
log = get_logger(__name__)


def rows_of(records: Any) -> tuple[list[Pending], list[tuple[Any, ValidationError]]]:
    """The CDR rows of a batch of records, and the records that are not valid events."""
    rows: list[Pending] = []
    invalid: list[tuple[Any, ValidationError]] = []
    for record in records:
        try:
            if record.topic == Topic.SESSIONS_ENDED.value:
                rows.append(Pending(record, row_from_session(decode(SessionEnded, record.value))))
            else:
                attempt = decode(DialAttempt, record.value)
                if not attempt.accepted:
                    rows.append(Pending(record, row_from_rejected_dial(attempt)))
        except ValidationError as exc:
            invalid.append((record, exc))
    return rows, invalid


async def undecoded(msg: Any) -> Any:
    """The batch's decoder: nothing. The handler reads ``msg.raw_message`` (the records) and
    validates each value itself; FastStream's own batch decoder built a message object and parsed
    the JSON of every record first (a quarter of the sink's CPU under py-spy, for nothing)."""
    return msg.body


def cdr_body(row: dict[str, Any], call_start: Any, recorded_at: Any) -> bytes:
    """The ``voice.cdrs`` record of a committed row: :class:`~switchboard.events.CdrRecorded`'s
    JSON, written straight from the row (the row was validated as a SessionEnded or DialAttempt)."""
    body = {"schema_version": 1, **row, "call_start": call_start, "recorded_at": recorded_at}
    return orjson.dumps(body, default=str, option=orjson.OPT_UTC_Z)


async def publish_cdrs(cdrs: KeyedBatches, items: list[Pending], landed: dict[str, tuple[Any, Any]]) -> None:
    """Publish each landed call's final row (the last of the batch per call key), keyed by call
    key, before the offsets are committed: a crash in between publishes them again (at least once).
    One produce request per partition, every one acknowledged by Kafka before this returns."""
    last = {item.row["call_key"]: item.row for item in items}
    await cdrs.publish([(key.encode(), cdr_body(row, *landed[key])) for key, row in last.items() if key in landed])


def source_headers(record: Any) -> dict[str, str]:
    return {"x-source-partition": str(record.partition), "x-source-offset": str(record.offset)}


def build_app(settings: CdrSinkSettings | None = None) -> FastAPI:
    settings = settings or CdrSinkSettings()
    configure_logging("cdr-sink", settings.log_level, settings.log_json)
    engine = create_async_engine(
        settings.async_database_url,
        pool_size=5,
        pool_pre_ping=True,  # a restarted PostgreSQL leaves dead connections in the pool
        connect_args={"timeout": 5, "command_timeout": 60},
    )
    broker = make_broker(settings, client_id="cdr-sink")
    health = SinkHealth()
    writer = BatchWriter(engine, health, budget_s=settings.transient_retry_s)
    cdr_topic = KeyedBatches(broker, Topic.CDRS.value)

    async def dead_letter_invalid(record: Any, error: ValidationError) -> None:
        first = error.errors()[0] if error.error_count() else None
        headers = source_headers(record)
        if first is not None and first["loc"]:
            headers["x-error-field"] = ".".join(str(part) for part in first["loc"])
        await publish_dlq(broker, record.topic, body=record.value, key=record.key, error=error, headers=headers)
        health.dead_lettered["schema"] += 1

    async def dead_letter_refused(record: Any, error: BaseException) -> None:
        name, message = database_error(error)
        headers = {
            "x-error-class": name,
            "x-error": message,
            "x-error-sqlstate": sqlstate_of(error) or "",
            **source_headers(record),
        }
        await publish_dlq(broker, record.topic, body=record.value, key=record.key, error=error, headers=headers)
        health.dead_lettered["database"] += 1

    # At least once, and each refused record dead-lettered once: the good rows are committed first
    # (refused rows isolated by bisection), then the invalid and refused records go to
    # <topic>.dlq, then the handler returns and the offsets are committed (AckPolicy: commit after
    # the handler). A database outage is retried inside the handler (the partition waits) for
    # SB_TRANSIENT_RETRY_S; then DatabaseUnavailable → NACK seeks back and the batch is read again:
    # nothing is dead-lettered for an outage. Idempotent: upsert by call_key, so a replay rewrites
    # the same rows; only a crash between the DLQ publish and the offset commit repeats a DLQ copy.
    @broker.subscriber(
        Topic.SESSIONS_ENDED.value,
        Topic.DIAL_ATTEMPTS.value,
        group_id=GROUP_ID,
        batch=True,
        max_records=settings.cdr_batch_max,
        batch_timeout_ms=settings.cdr_batch_timeout_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        decoder=undecoded,
    )
    async def on_batch(msg: KafkaMessage) -> None:
        items, invalid = rows_of(msg.raw_message)
        landed: dict[str, tuple[Any, Any]] = {}
        refused = await writer.write(items, landed)
        if settings.cdr_publish and landed:
            await publish_cdrs(cdr_topic, items, landed)
        for record, error in invalid:
            await dead_letter_invalid(record, error)
        for refusal in refused:
            await dead_letter_refused(refusal.pending.record, refusal.error)
        if written := len(items) - len(refused):
            log.info("cdrs written", count=written, dead_lettered=len(invalid) + len(refused))

    async def maintain_partitions() -> None:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            await maintain(
                raw.driver_connection,
                ahead=settings.cdr_partitions_ahead,
                retention_months=settings.cdr_retention_months,
            )

    async def partition_loop() -> None:
        """At start and every SB_CDR_PARTITION_CHECK_S; a failure (database down) is logged and
        retried a minute later: rows for a month without its partition land in cdrs_default."""
        while True:
            try:
                await maintain_partitions()
                delay = settings.cdr_partition_check_s
            except Exception as exc:
                log.warning("cdr partition maintenance failed; retrying", error=repr(exc)[:500])
                delay = min(60.0, settings.cdr_partition_check_s)
            await asyncio.sleep(delay)

    tasks: list[asyncio.Task[None]] = []

    def start_partition_loop() -> None:
        tasks.append(asyncio.create_task(partition_loop(), name="cdr-partitions"))

    async def stop_partition_loop() -> None:
        for task in tasks:
            await cancel_and_wait(task)

    async def db_ready() -> bool:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def sink_ready() -> bool:
        """False once a database outage has outlasted SB_TRANSIENT_RETRY_S."""
        return health.retrying_for() < settings.transient_retry_s

    return service_app(
        "Switchboard cdr-sink",
        broker=broker,
        consume=True,
        checks={"postgres": db_ready, "sink": sink_ready},
        on_start=[start_partition_loop],
        closers=[stop_partition_loop, engine.dispose],
        info=lambda: {"sink_state": health.info()},
    )
