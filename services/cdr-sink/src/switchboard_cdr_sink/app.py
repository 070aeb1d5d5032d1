"""cdr-sink composition root: settings → logging → database → broker → batch subscriber → health."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from faststream import AckPolicy
from faststream.kafka import KafkaMessage
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from switchboard.events import DialAttempt, SessionEnded, decode
from switchboard.kafka import make_broker, publish_dlq
from switchboard.logging import configure_logging, get_logger
from switchboard.service import service_app
from switchboard.topics import Topic
from switchboard_cdr_sink.settings import CdrSinkSettings
from switchboard_cdr_sink.store import row_from_rejected_dial, row_from_session, upsert_cdrs

GROUP_ID = "cdr-sink"
log = get_logger(__name__)


def build_app(settings: CdrSinkSettings | None = None) -> FastAPI:
    settings = settings or CdrSinkSettings()
    configure_logging("cdr-sink", settings.log_level, settings.log_json)
    engine = create_async_engine(settings.async_database_url, pool_size=5)
    broker = make_broker(settings, client_id="cdr-sink")

    async def rows_of(records: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for record in records:
            try:
                if record.topic == Topic.SESSIONS_ENDED.value:
                    rows.append(row_from_session(decode(SessionEnded, record.value)))
                else:
                    attempt = decode(DialAttempt, record.value)
                    if not attempt.accepted:
                        rows.append(row_from_rejected_dial(attempt))
            except ValidationError as exc:
                await publish_dlq(broker, record.topic, body=record.value, key=record.key, error=exc)
        return rows

    # At least once: offsets are committed only after the database commit (AckPolicy.ACK after
    # the handler returns). A database outage raises after the retries: NACK seeks back and the
    # batch is read again later. Idempotent: upsert by call_key. Poison records go to the DLQ.
    @broker.subscriber(
        Topic.SESSIONS_ENDED.value,
        Topic.DIAL_ATTEMPTS.value,
        group_id=GROUP_ID,
        batch=True,
        max_records=settings.cdr_batch_max,
        batch_timeout_ms=settings.cdr_batch_timeout_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
    )
    async def on_batch(msg: KafkaMessage) -> None:
        rows = await rows_of(msg.raw_message)
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(settings.consumer_max_retries + 1),
            wait=wait_exponential(multiplier=0.2, max=5),
            reraise=True,
        ):
            with attempt:
                written = await upsert_cdrs(engine, rows)
        if written:
            log.info("cdrs written", count=written)

    async def db_ready() -> bool:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    return service_app(
        "Switchboard cdr-sink",
        broker=broker,
        consume=True,
        checks={"postgres": db_ready},
        closers=[engine.dispose],
    )
