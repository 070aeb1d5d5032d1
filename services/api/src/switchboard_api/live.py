"""Keeps each tenant's set of live calls (the ``max_live_calls`` cap, :mod:`switchboard_api.guards`)
current: a call leaves it when its ``SessionEnded`` is consumed, or its ``DialAttempt`` when the
provider refused the dial. Consumer group ``api-live-calls``; at most a ZREM per record, so a
redelivery is harmless."""

from __future__ import annotations

from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError
from redis.asyncio import Redis

from switchboard.events import DialAttempt, SessionEnded, decode
from switchboard.logging import get_logger
from switchboard.topics import Topic
from switchboard_api.guards import live_key

GROUP_ID = "api-live-calls"
log = get_logger(__name__)


def subscribe(broker: KafkaBroker, redis: Redis) -> None:
    @broker.subscriber(
        Topic.SESSIONS_ENDED.value,
        Topic.DIAL_ATTEMPTS.value,
        group_id=GROUP_ID,
        batch=True,
        max_records=500,
        batch_timeout_ms=200,
        auto_offset_reset="latest",
    )
    async def on_batch(msg: KafkaMessage) -> None:
        ended: list[tuple[str, str]] = []
        for record in msg.raw_message:
            try:
                if record.topic == Topic.SESSIONS_ENDED.value:
                    event = decode(SessionEnded, record.value)
                    if event.call_id:
                        ended.append((event.tenant_id, event.call_id))
                else:
                    attempt = decode(DialAttempt, record.value)
                    if not attempt.accepted:
                        ended.append((attempt.tenant_id, attempt.call_id))
            except ValidationError as exc:  # the cdr-sink dead-letters it; here it only is not counted
                log.warning("record not understood; live count unchanged", topic=record.topic, error=str(exc)[:200])
        if ended:
            async with redis.pipeline(transaction=False) as pipe:
                for tenant_id, call_id in ended:
                    pipe.zrem(live_key(tenant_id), call_id)
                await pipe.execute()
