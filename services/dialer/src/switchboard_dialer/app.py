"""dialer composition root: settings → logging → clients → subscriber → health."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import AckPolicy

from switchboard.accounts import ProviderClients
from switchboard.events import DialRequest, decode
from switchboard.kafka import make_broker, run_guarded
from switchboard.logging import configure_logging
from switchboard.redis import make_redis
from switchboard.service import BackgroundTask, redis_check, service_app
from switchboard.topics import Topic
from switchboard_dialer import campaign_ends, ends
from switchboard_dialer.campaigns import CampaignRunner
from switchboard_dialer.placing import Dialer
from switchboard_dialer.settings import DialerSettings

GROUP_ID = "dialer"


def build_app(settings: DialerSettings | None = None) -> FastAPI:
    settings = settings or DialerSettings()
    configure_logging("dialer", settings.log_level, settings.log_json)
    broker = make_broker(settings, client_id="dialer")
    redis = make_redis(settings)
    clients = ProviderClients()
    dialer = Dialer(settings, broker, redis, clients)
    campaigns = CampaignRunner(settings, broker)
    campaign_ends.subscribe(broker, settings, campaigns.db)
    ends.subscribe(broker, ends.Ends(dialer.admission), settings)
    live = BackgroundTask(dialer.report_live_calls)

    # At least once delivery, at most once placement: the offset is committed after the attempt
    # is published; a redelivered request is skipped by its idempotency key (see placing.py).
    @broker.subscriber(
        Topic.DIAL_REQUESTS.value,
        group_id=GROUP_ID,
        ack_policy=AckPolicy.ACK,
        auto_offset_reset="earliest",
        max_workers=min(settings.dialer_concurrency, settings.kafka_partitions),
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        session_timeout_ms=settings.dialer_session_timeout_ms,
        heartbeat_interval_ms=settings.dialer_heartbeat_ms,
    )
    async def on_dial_request() -> None:
        # The message from the context and no parameters: a ``KafkaMessage`` parameter costs a
        # thread-pool hop per message, and a ``bytes`` one has FastStream decode the JSON first.
        msg = broker.context.get_local("message")
        body: bytes = msg.body
        await run_guarded(
            broker,
            Topic.DIAL_REQUESTS.value,
            body=body,
            key=msg.raw_message.key,
            handle=lambda: dialer.place(decode(DialRequest, body)),
            max_retries=settings.consumer_max_retries,
            transient_retry_s=settings.transient_retry_s,
        )

    app = service_app(
        "Switchboard dialer",
        broker=broker,
        consume=True,
        checks={"redis": redis_check(redis)},
        on_started=[campaigns.start, live.start],
        drains=[campaigns.stop, live.stop],
        closers=[clients.aclose, redis.aclose],
    )
    app.state.dialer = dialer
    return app
