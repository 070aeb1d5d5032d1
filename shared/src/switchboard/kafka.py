"""Kafka helpers: the broker factory, topic creation and the guarded handler (retry → DLQ).

Delivery (ARCHITECTURE §7): producers use ``acks=all`` and no linger; idempotence is a setting
(on for Apache Kafka, off for Tansu, which refuses ``InitProducerId``). Consumers commit after
processing (``AckPolicy.ACK``) with an explicit group id. :func:`run_guarded` never lets an
exception reach FastStream: an :class:`~switchboard.errors.InvalidEvent` goes straight to
``<topic>.dlq``; anything else is retried with exponential backoff and then dead-lettered, so a
poison message is neither lost silently nor re-read forever.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from pydantic import ValidationError
from tenacity import AsyncRetrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from switchboard.errors import InvalidEvent
from switchboard.logging import get_logger
from switchboard.settings import ServiceSettings
from switchboard.topics import all_topic_names

log = get_logger(__name__)


def make_broker(settings: ServiceSettings, *, client_id: str) -> KafkaBroker:
    """A FastStream Kafka broker for ``settings.kafka_bootstrap`` with acks=all, linger 0."""
    return KafkaBroker(
        settings.kafka_bootstrap.split(","),
        client_id=client_id,
        acks="all",
        linger_ms=0,
        enable_idempotence=settings.kafka_idempotence,
        request_timeout_ms=10_000,
        logger=None,
    )


async def create_topics(bootstrap: str, *, partitions: int = 8, names: list[str] | None = None) -> list[str]:
    """Create Switchboard's topics (and their DLQs) if missing. Returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [n for n in (names or all_topic_names()) if n not in existing]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(n, partitions, 1) for n in wanted])
        return wanted
    finally:
        await admin.close()


async def publish_dlq(broker: KafkaBroker, topic: str, *, body: bytes, key: bytes | None, error: BaseException) -> None:
    """Send the original bytes to ``<topic>.dlq`` with the error class and message in headers."""
    field = getattr(error, "field", None)
    headers = {
        "x-error-class": type(error).__name__,
        "x-error": str(error)[:2000],
        "x-source-topic": topic,
    }
    if field:
        headers["x-error-field"] = str(field)
    await broker.publish(body, f"{topic}.dlq", key=key, headers=headers)
    log.error("event dead-lettered", topic=topic, error=str(error)[:500], field=field)


async def run_guarded(
    broker: KafkaBroker,
    topic: str,
    *,
    body: bytes,
    key: bytes | None,
    handle: Callable[[], Awaitable[Any]],
    max_retries: int,
) -> None:
    """Run ``handle()``; retry failures up to ``max_retries`` times, then dead-letter the message.

    ``InvalidEvent`` and pydantic ``ValidationError`` are not retried: they can never succeed.
    """
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(max_retries + 1),
            wait=wait_exponential(multiplier=0.05, max=2),
            retry=retry_if_not_exception_type((InvalidEvent, ValidationError)),
            reraise=True,
        ):
            with attempt:
                await handle()
    except Exception as exc:
        await publish_dlq(broker, topic, body=body, key=key, error=exc)
