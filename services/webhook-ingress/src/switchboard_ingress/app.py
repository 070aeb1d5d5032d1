"""webhook-ingress composition root: settings → logging → clients → routes → lifespan → health.

The ingress serves only what providers call (their callbacks) and health; the control plane
(placing calls, call control) is the api service (``services/api``), served on its own port."""

from __future__ import annotations

from fastapi import FastAPI

from switchboard.accounts import ProviderClients
from switchboard.kafka import make_broker
from switchboard.logging import configure_logging
from switchboard.redis import make_redis
from switchboard.replies import ReplyListener
from switchboard.service import redis_check, service_app
from switchboard_ingress import callbacks, hold, polling
from switchboard_ingress.settings import IngressSettings


def build_app(settings: IngressSettings | None = None) -> FastAPI:
    settings = settings or IngressSettings()
    configure_logging("webhook-ingress", settings.log_level, settings.log_json)
    broker = make_broker(settings, client_id="webhook-ingress")
    redis = make_redis(settings)

    clients = ProviderClients()
    replies = ReplyListener(redis)
    handler = callbacks.CallbackHandler(settings, broker, redis, clients, replies)
    poller = polling.ReportPoller(
        handler, redis, clients, poll_s=settings.report_poll_s, overdue_s=settings.report_overdue_s
    )
    app = service_app(
        "Switchboard webhook-ingress",
        broker=broker,
        consume=False,
        checks={"redis": redis_check(redis)},
        on_start=[replies.start, poller.start],
        drains=[poller.stop, handler.drain, replies.stop],
        max_body_bytes=settings.max_body_bytes,
        closers=[clients.aclose, redis.aclose],
    )
    app.include_router(callbacks.build_router(handler))
    app.include_router(hold.build_router())
    app.state.report_poller = poller
    return app
