"""notifier composition root: settings → logging → clients → subscribers → courier → health.

Why a service of its own: a customer's server can be slow or down for hours, and nothing that
serves a live call may wait on it or share its failures. The dialer and the flow-runner only
write a few Redis keys (:class:`switchboard.status_callbacks.Outbox`); this service reads
``voice.call-events`` (ringing, answered) and ``voice.cdrs`` (completed, with the CDR) in consumer
group ``notifier``, queues what each call asked for, and POSTs from the outbox
(:mod:`switchboard_notifier.delivery`). It scales by replicas: the outbox's claims are shared.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from faststream import AckPolicy
from pydantic import ValidationError

from switchboard import status_callbacks as sc
from switchboard.events import CallEvent, CallEventType, CdrRecorded, Direction, decode
from switchboard.kafka import make_broker, run_guarded
from switchboard.logging import configure_logging, get_logger
from switchboard.redis import make_redis
from switchboard.service import redis_check, service_app
from switchboard.topics import Topic
from switchboard_notifier.delivery import Courier
from switchboard_notifier.settings import NotifierSettings

GROUP_ID = "notifier"
log = get_logger(__name__)

LIVE_EVENTS: dict[CallEventType, sc.StatusCallbackEvent] = {
    CallEventType.CALL_RINGING: "ringing",
    CallEventType.CALL_STARTED: "answered",
}


async def on_call_event(outbox: sc.Outbox, event: CallEvent) -> None:
    """Queue ``ringing`` / ``answered`` for a call that asked for them; an outbound call's event
    that beat the dialer's subscription is parked for it (:class:`~switchboard.status_callbacks.Outbox`)."""
    if kind := LIVE_EVENTS.get(event.type):
        await outbox.queue(
            event.call_key,
            kind,
            provider=event.provider,
            direction=event.direction.value,
            occurred_at=event.received_at,
            park=event.direction is Direction.OUTBOUND,
        )


async def on_cdr(outbox: sc.Outbox, cdr: CdrRecorded) -> None:
    """Queue ``completed`` with the CDR for a call that asked for it."""
    await outbox.queue(
        cdr.call_key,
        "completed",
        provider=cdr.provider,
        direction=cdr.direction.value,
        occurred_at=cdr.ended_at,
        cdr=cdr,
    )


def build_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    configure_logging("notifier", settings.log_level, settings.log_json)
    broker = make_broker(settings, client_id="notifier")
    redis = make_redis(settings)
    outbox = sc.Outbox(redis)
    courier = Courier(settings, redis, broker)

    def call_event(body: bytes) -> Any:
        """The work for one ``voice.call-events`` record (a zero-argument coroutine function), or
        None: most callbacks are neither ringing nor answered and are not parsed."""
        if b'"call.ringing"' not in body and b'"call.started"' not in body:
            return None
        event = decode(CallEvent, body)
        return lambda: on_call_event(outbox, event)

    def cdr(body: bytes) -> Any:
        record = decode(CdrRecorded, body)
        return lambda: on_cdr(outbox, record)

    handlers = {Topic.CALL_EVENTS.value: call_event, Topic.CDRS.value: cdr}

    # One consumer for both topics: two consumers in one group rejoin each other's rebalances.
    @broker.subscriber(*handlers, group_id=GROUP_ID, ack_policy=AckPolicy.ACK, auto_offset_reset="latest")
    async def on_record() -> None:
        msg = broker.context.get_local("message")
        body: bytes = msg.body
        topic: str = msg.raw_message.topic
        try:
            work = handlers[topic](body)
        except ValidationError as exc:  # the topic's own consumers dead-letter it
            log.warning("record not understood; no status callback", topic=topic, error=str(exc)[:200])
            return
        if work is None:
            return
        await run_guarded(
            broker,
            topic,
            body=body,
            key=msg.raw_message.key,
            handle=work,
            max_retries=settings.consumer_max_retries,
            transient_retry_s=settings.transient_retry_s,
        )

    async def start_courier() -> None:
        courier.start()

    return service_app(
        "Switchboard notifier",
        broker=broker,
        consume=True,
        checks={"redis": redis_check(redis)},
        on_started=[start_courier],
        drains=[courier.stop],
        closers=[redis.aclose],
    )
