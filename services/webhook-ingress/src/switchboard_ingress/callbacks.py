"""Africa's Talking callback endpoints: the callback URL and the events URL.

Each request: parse (4xx naming the field on bad input) → drop duplicates (``SET NX``) → publish
the ``CallEvent`` (acks=all) → for a live callback, wait for the flow-runner's reply in Redis
(ARCHITECTURE §4). A duplicate gets the reply rendered for the first copy and publishes nothing.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from switchboard.errors import InvalidEvent
from switchboard.events import CallEvent, encode
from switchboard.logging import bind_call, get_logger
from switchboard.providers.africastalking import PROVIDER, dedupe_key, parse_callback
from switchboard.redis import as_bytes, seen_key
from switchboard.state import cached_reply, wait_reply
from switchboard.topics import Topic
from switchboard_ingress.fallback import fallback_reply
from switchboard_ingress.guard import check
from switchboard_ingress.settings import IngressSettings

log = get_logger(__name__)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_form(request: Request) -> dict[str, str]:
    """The callback's form fields. Raises :class:`InvalidEvent` for another content type."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(FORM_TYPES):
        raise InvalidEvent(f"content type {content_type or 'none'!r} is not a form body", field="content-type")
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def bad_request(exc: InvalidEvent, source: str) -> JSONResponse:
    log.warning("callback refused", source=source, field=exc.field, error=str(exc))
    status = 415 if exc.field == "content-type" else 400
    return JSONResponse({"error": str(exc), "field": exc.field}, status_code=status)


class CallbackHandler:
    def __init__(self, settings: IngressSettings, broker: KafkaBroker, redis: Redis) -> None:
        self.settings = settings
        self.broker = broker
        self.redis = redis

    async def _first_seen(self, form: dict[str, str], event: CallEvent, step: str | None) -> str | None:
        """None if this callback is new (and now remembered) or Redis cannot tell, else the first
        copy's event id."""
        key = seen_key(PROVIDER, dedupe_key(form, step=step))
        try:
            if await self.redis.set(key, event.event_id, nx=True, ex=self.settings.dedupe_ttl_s):
                return None
        except Exception as exc:
            # Without the guard a duplicate may get through; downstream absorbs it (state keyed by
            # event, CDR upsert by call key). Dropping a final notification would lose the CDR.
            log.warning("duplicate guard unavailable; publishing anyway", error=repr(exc))
            return None
        first = await self.redis.get(key)
        return as_bytes(first).decode() if first else event.event_id

    async def _publish(self, event: CallEvent) -> None:
        await self.broker.publish(encode(event), Topic.CALL_EVENTS.value, key=event.call_key.encode())

    async def _await_cached(self, event_id: str) -> tuple[bytes, str] | None:
        deadline = time.monotonic() + self.settings.reply_timeout_s
        while time.monotonic() < deadline:
            if (reply := await cached_reply(self.redis, event_id)) is not None:
                return reply
            await asyncio.sleep(0.02)
        return None

    async def handle(self, request: Request, source: str) -> Response:
        try:
            form = await read_form(request)
            event = parse_callback(form, source="events" if source == "events" else "callback")
        except InvalidEvent as exc:
            return bad_request(exc, source)
        bind_call(call_key=event.call_key, event_id=event.event_id)
        try:
            return await self._accepted(request, source, form, event)
        except Exception as exc:  # Redis or the broker failing: the caller must still hear something
            log.error("callback handling failed", error=repr(exc), type=event.type)
            if not event.expects_reply:
                return PlainTextResponse("retry later", status_code=503)
            return self._reply(None, request)

    async def _accepted(self, request: Request, source: str, form: dict[str, str], event: CallEvent) -> Response:
        first = await self._first_seen(form, event, request.query_params.get("step"))
        if first is not None:
            log.info("duplicate callback", first_event_id=first, type=event.type)
            if not event.expects_reply:
                return self._ack(source)
            reply = await self._await_cached(first)
            return self._reply(reply, request)
        try:
            await self._publish(event)
        except Exception as exc:  # broker down: the caller must still hear something
            log.error("publish failed", error=repr(exc), type=event.type)
            await self.redis.delete(seen_key(PROVIDER, dedupe_key(form, step=request.query_params.get("step"))))
            if not event.expects_reply:
                return PlainTextResponse("retry later", status_code=503)
            return self._reply(None, request)
        if not event.expects_reply:
            return self._ack(source)
        reply = await wait_reply(self.redis, event.event_id, self.settings.reply_timeout_s)
        return self._reply(reply, request)

    def _ack(self, source: str) -> Response:
        # Events URL: "OK" (seed 001). Final notification on the callback URL: empty 200 (spec §3.2).
        return PlainTextResponse("OK") if source == "events" else Response(status_code=200)

    def _reply(self, reply: tuple[bytes, str] | None, request: Request) -> Response:
        if reply is None:
            log.warning("reply deadline passed; fallback sent")
            body, content_type = fallback_reply(str(request.url), self.settings)
            return Response(body, media_type=content_type, headers={"X-Switchboard-Fallback": "1"})
        body, content_type = reply
        return Response(body, media_type=content_type)


def build_router(handler: CallbackHandler) -> APIRouter:
    router = APIRouter()
    settings = handler.settings

    def forbidden(reason: str) -> JSONResponse:
        return JSONResponse({"error": f"forbidden: {reason}"}, status_code=403)

    async def callback(request: Request, token: str | None = None) -> Response:
        if reason := check(request, settings, token):
            return forbidden(reason)
        return await handler.handle(request, "callback")

    async def events(request: Request, token: str | None = None) -> Response:
        if reason := check(request, settings, token):
            return forbidden(reason)
        return await handler.handle(request, "events")

    desc = (
        "Africa's Talking notification (form body, africastalking.md §3); answers XML. Guarded by the "
        "deployment secret: path token (/t/<secret>/) or Basic-auth password."
    )
    for path in (
        "/providers/africastalking/t/{token}/callback",
        "/providers/africastalking/callback",
        "/voice/instruct",
    ):
        router.add_api_route(
            path,
            callback,
            methods=["POST"],
            summary="AT callback URL",
            description=desc,
            response_class=Response,
            tags=["africastalking"],
        )
    for path in ("/providers/africastalking/t/{token}/events", "/providers/africastalking/events", "/voice/events"):
        router.add_api_route(
            path,
            events,
            methods=["POST"],
            summary="AT events URL",
            description="Progress events (africastalking.md §3.3); answers OK. Guarded as above.",
            response_class=PlainTextResponse,
            tags=["africastalking"],
        )
    return router
