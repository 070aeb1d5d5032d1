"""dialer composition root: settings → logging → clients → subscriber → health."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import AckPolicy
from faststream.kafka import KafkaMessage

from switchboard.events import DialRequest, decode
from switchboard.kafka import make_broker, run_guarded
from switchboard.logging import configure_logging
from switchboard.providers.telesign import TelesignClient
from switchboard.providers.voxology import VoxologyClient
from switchboard.redis import make_redis
from switchboard.service import redis_check, service_app
from switchboard.topics import Topic
from switchboard_dialer.placing import Dialer
from switchboard_dialer.settings import DialerSettings

GROUP_ID = "dialer"


def build_app(settings: DialerSettings | None = None) -> FastAPI:
    settings = settings or DialerSettings()
    configure_logging("dialer", settings.log_level, settings.log_json)
    broker = make_broker(settings, client_id="dialer")
    redis = make_redis(settings)
    client = settings.at_client()
    voxology = (
        VoxologyClient(settings.vox_base_url, settings.vox_api_key.get_secret_value())
        if settings.vox_base_url
        else None
    )
    telesign = (
        TelesignClient(settings.ts_base_url, settings.ts_customer_id, settings.ts_api_key.get_secret_value())
        if settings.ts_base_url
        else None
    )
    dialer = Dialer(settings, broker, redis, client, voxology, telesign)

    # At least once delivery, at most once placement: the offset is committed after the attempt
    # is published; a redelivered request is skipped by its idempotency key (see placing.py).
    @broker.subscriber(
        Topic.DIAL_REQUESTS.value,
        group_id=GROUP_ID,
        ack_policy=AckPolicy.ACK,
        auto_offset_reset="earliest",
        max_workers=settings.dialer_concurrency,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
    async def on_dial_request(msg: KafkaMessage) -> None:
        body: bytes = msg.body
        await run_guarded(
            broker,
            Topic.DIAL_REQUESTS.value,
            body=body,
            key=msg.raw_message.key,  # type: ignore[union-attr]
            handle=lambda: dialer.place(decode(DialRequest, body)),
            max_retries=settings.consumer_max_retries,
        )

    return service_app(
        "Switchboard dialer",
        broker=broker,
        consume=True,
        checks={"redis": redis_check(redis)},
        closers=[client.aclose, *(c.aclose for c in (voxology, telesign) if c is not None), redis.aclose],
    )
