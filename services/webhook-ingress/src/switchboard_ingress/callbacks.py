"""Provider callback endpoints, the same pipeline for every provider's dialect.

Each request: guard (deployment secret, allow-list) → parse with the provider's dialect (4xx naming
the field on bad input) → drop duplicates (``SET NX``) → publish the ``CallEvent`` (acks=all) → for a
live callback, wait for the flow-runner's reply in Redis (ARCHITECTURE §4). A duplicate gets the
reply rendered for the first copy and publishes nothing. Past the deadline, the dialect's fallback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from switchboard.accounts import ProviderClients
from switchboard.errors import AuthenticationFailed, InvalidEvent
from switchboard.events import CallEvent, encode
from switchboard.logging import bind_call, get_logger
from switchboard.redis import as_bytes, seen_key
from switchboard.state import cached_reply, wait_reply
from switchboard.topics import Topic
from switchboard_ingress.dialects import Dialect, Parsed, dialects
from switchboard_ingress.guard import check
from switchboard_ingress.settings import IngressSettings

log = get_logger(__name__)


def bad_request(exc: InvalidEvent, provider: str, source: str) -> JSONResponse:
    log.warning("callback refused", provider=provider, source=source, field=exc.field, error=str(exc))
    status = 415 if exc.field == "content-type" else 400
    return JSONResponse({"error": str(exc), "field": exc.field}, status_code=status)


class CallbackHandler:
    def __init__(self, settings: IngressSettings, broker: KafkaBroker, redis: Redis) -> None:
        self.settings = settings
        self.broker = broker
        self.redis = redis

    async def _first_seen(self, dialect: Dialect, parsed: Parsed) -> str | None:
        """None if this callback is new (and now remembered) or Redis cannot tell, else the first
        copy's event id."""
        key = seen_key(dialect.provider, parsed.dedupe_key)
        try:
            if await self.redis.set(key, parsed.event.event_id, nx=True, ex=self.settings.dedupe_ttl_s):
                return None
        except Exception as exc:
            # Without the guard a duplicate may get through; downstream absorbs it (state keyed by
            # event, CDR upsert by call key). Dropping a final notification would lose the CDR.
            log.warning("duplicate guard unavailable; publishing anyway", error=repr(exc))
            return None
        first = await self.redis.get(key)
        return as_bytes(first).decode() if first else parsed.event.event_id

    async def _publish(self, event: CallEvent) -> None:
        await self.broker.publish(encode(event), Topic.CALL_EVENTS.value, key=event.call_key.encode())

    async def _await_cached(self, event_id: str) -> tuple[bytes, str] | None:
        deadline = time.monotonic() + self.settings.reply_timeout_s
        while time.monotonic() < deadline:
            if (reply := await cached_reply(self.redis, event_id)) is not None:
                return reply
            await asyncio.sleep(0.02)
        return None

    async def handle(self, request: Request, dialect: Dialect, source: str) -> Response:
        try:
            parsed = await dialect.parse(request, source)
        except InvalidEvent as exc:
            return bad_request(exc, dialect.provider, source)
        except AuthenticationFailed as exc:
            log.warning("callback refused: bad signature", provider=dialect.provider, error=str(exc))
            return JSONResponse({"error": str(exc)}, status_code=401)
        event = parsed.event
        bind_call(call_key=event.call_key, event_id=event.event_id)
        try:
            return await self._accepted(request, dialect, source, parsed)
        except Exception as exc:  # Redis or the broker failing: the caller must still hear something
            log.error("callback handling failed", error=repr(exc), type=event.type)
            if not event.expects_reply:
                return PlainTextResponse("retry later", status_code=503)
            return self._reply(None, request, dialect)

    async def _accepted(self, request: Request, dialect: Dialect, source: str, parsed: Parsed) -> Response:
        event = parsed.event
        first = await self._first_seen(dialect, parsed)
        if first is not None:
            log.info("duplicate callback", first_event_id=first, type=event.type)
            if not event.expects_reply:
                return dialect.ack(source)
            return self._reply(await self._await_cached(first), request, dialect)
        try:
            await self._publish(event)
        except Exception as exc:  # broker down: the caller must still hear something
            log.error("publish failed", error=repr(exc), type=event.type)
            await self.redis.delete(seen_key(dialect.provider, parsed.dedupe_key))
            if not event.expects_reply:
                return PlainTextResponse("retry later", status_code=503)
            return self._reply(None, request, dialect)
        if not event.expects_reply:
            return dialect.ack(source)
        return self._reply(
            await wait_reply(self.redis, event.event_id, self.settings.reply_timeout_s), request, dialect
        )

    def _reply(self, reply: tuple[bytes, str] | None, request: Request, dialect: Dialect) -> Response:
        if reply is None:
            log.warning("reply deadline passed; fallback sent")
            body, content_type = dialect.fallback(str(request.url), self.settings)
            return Response(body, media_type=content_type, headers={"X-Switchboard-Fallback": "1"})
        body, content_type = reply
        return Response(body, media_type=content_type)


ROUTES = [
    (
        "africastalking",
        "callback",
        ("/providers/africastalking/t/{token}/callback", "/providers/africastalking/callback", "/voice/instruct"),
        "AT callback URL",
        "Africa's Talking notification (form body, africastalking.md §3); answers XML.",
    ),
    (
        "africastalking",
        "events",
        ("/providers/africastalking/t/{token}/events", "/providers/africastalking/events", "/voice/events"),
        "AT events URL",
        "Progress events (africastalking.md §3.3); answers OK.",
    ),
    (
        "voxology",
        "callback",
        ("/providers/voxology/t/{token}/callback", "/providers/voxology/callback"),
        "Voxology callback URL",
        "Voxology callback (JSON, voxology.md §3); answers a call-flow document.",
    ),
    (
        "telesign",
        "callback",
        ("/providers/telesign/t/{token}/callback", "/providers/telesign/callback"),
        "Telesign webhook",
        "Telesign event (JSON, telesign.md §4), HMAC-signed (§5); answers one JSON-RPC action.",
    ),
]
"""(provider, source, paths, summary, description) of every callback endpoint."""


def build_router(handler: CallbackHandler, clients: ProviderClients) -> APIRouter:
    router = APIRouter()
    settings = handler.settings
    by_provider = dialects(clients)

    def endpoint(provider: str, source: str) -> Callable[..., Awaitable[Response]]:
        dialect = by_provider[provider]

        async def receive(request: Request, token: str | None = None) -> Response:
            if reason := check(request, settings, token):
                return JSONResponse({"error": f"forbidden: {reason}"}, status_code=403)
            return await handler.handle(request, dialect, source)

        return receive

    guarded = "Guarded by the deployment secret: path token (/t/<secret>/) or Basic-auth password."
    for provider, source, paths, summary, doc in ROUTES:
        for path in paths:
            router.add_api_route(
                path,
                endpoint(provider, source),
                methods=["POST"],
                summary=summary,
                description=f"{doc} {guarded}",
                response_class=Response,
                tags=[provider],
            )
    return router
