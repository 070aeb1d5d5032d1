"""Provider callback endpoints, the same pipeline for every provider in the registry.

Each request: guard (deployment secret, allow-list; a dependency, 403) → read into a
:class:`~switchboard.providers.base.CallbackRequest` → the provider's ``parse`` (400/415 naming the
field, 401 for a bad signature) → drop duplicates (``SET NX``) → publish the ``CallEvent``
(acks=all) → for a live callback, wait for the flow-runner's reply in Redis (ARCHITECTURE §4). A
duplicate gets the reply rendered for the first copy and publishes nothing. Past the deadline, or
when Redis or the broker fails, the provider's fallback: a live caller never hears silence.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request, Response
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from switchboard.accounts import ProviderClients
from switchboard.errors import ServiceUnavailable
from switchboard.events import CallEvent, encode
from switchboard.logging import bind_call, get_logger
from switchboard.problems import responses
from switchboard.providers import PROVIDERS
from switchboard.providers.base import CallbackRequest, CallbackSource, ParsedCallback, Provider, Reply
from switchboard.redis import as_bytes, seen_key
from switchboard.state import cached_reply, wait_reply
from switchboard.topics import Topic
from switchboard_ingress.guard import callback_guard
from switchboard_ingress.settings import IngressSettings

log = get_logger(__name__)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_callback(
    request: Request, source: CallbackSource, clients: ProviderClients, provider: str
) -> CallbackRequest:
    """The framework-free view of ``request`` a provider parses. A form body is decoded here
    (Starlette's parser, which also takes multipart); the raw bytes are kept for signatures."""
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    form = None
    if content_type.startswith(FORM_TYPES):
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    account_name = request.query_params.get("account") or "default"
    return CallbackRequest(
        source=source,
        content_type=content_type,
        body=body,
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query_params),
        account_name=account_name,
        account=clients.account(provider, account_name),
        form=form,
    )


def as_response(reply: Reply, *, fallback: bool = False) -> Response:
    headers = {"X-Switchboard-Fallback": "1"} if fallback else None
    return Response(reply.body, media_type=reply.content_type, headers=headers)


class CallbackHandler:
    def __init__(self, settings: IngressSettings, broker: KafkaBroker, redis: Redis, clients: ProviderClients) -> None:
        self.settings = settings
        self.broker = broker
        self.redis = redis
        self.clients = clients
        self.policy = settings.fallback_policy()

    async def _first_seen(self, provider: Provider, parsed: ParsedCallback) -> str | None:
        """None if this callback is new (and now remembered) or Redis cannot tell, else the first
        copy's event id."""
        key = seen_key(provider.name, parsed.dedupe_key)
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

    async def handle(self, request: Request, provider: Provider, source: CallbackSource) -> Response:
        """Raises :class:`InvalidEvent`/:class:`AuthenticationFailed` for a request the provider
        refuses (mapped to 400/415/401), :class:`ServiceUnavailable` when a notification that needs
        no reply could not be published (503: the provider retries)."""
        parsed = provider.parse(await read_callback(request, source, self.clients, provider.name))
        event = parsed.event
        bind_call(call_key=event.call_key, event_id=event.event_id)
        try:
            return await self._accepted(request, provider, source, parsed)
        except Exception as exc:  # Redis or the broker failing: the caller must still hear something
            log.error("callback handling failed", error=repr(exc), type=event.type)
            if not event.expects_reply:
                raise ServiceUnavailable("the event could not be recorded; retry later") from exc
            return self._reply(None, request, provider)

    async def _accepted(
        self, request: Request, provider: Provider, source: CallbackSource, parsed: ParsedCallback
    ) -> Response:
        event = parsed.event
        first = await self._first_seen(provider, parsed)
        if first is not None:
            log.info("duplicate callback", first_event_id=first, type=event.type)
            if not event.expects_reply:
                return as_response(provider.ack(source))
            return self._reply(await self._await_cached(first), request, provider)
        try:
            await self._publish(event)
        except Exception as exc:  # broker down: the caller must still hear something
            log.error("publish failed", error=repr(exc), type=event.type)
            await self.redis.delete(seen_key(provider.name, parsed.dedupe_key))
            if not event.expects_reply:
                raise ServiceUnavailable("the event could not be recorded; retry later") from exc
            return self._reply(None, request, provider)
        if not event.expects_reply:
            return as_response(provider.ack(source))
        return self._reply(
            await wait_reply(self.redis, event.event_id, self.settings.reply_timeout_s), request, provider
        )

    def _reply(self, reply: tuple[bytes, str] | None, request: Request, provider: Provider) -> Response:
        if reply is None:
            log.warning("reply deadline passed; fallback sent")
            return as_response(provider.fallback(str(request.url), self.policy), fallback=True)
        body, content_type = reply
        return Response(body, media_type=content_type)


def build_router(handler: CallbackHandler) -> APIRouter:
    """Every provider's callback routes (``Provider.callback_routes``), guarded."""
    router = APIRouter(dependencies=[Depends(callback_guard(handler.settings))])

    def endpoint(provider: Provider, source: CallbackSource) -> Callable[..., Awaitable[Response]]:
        async def receive(request: Request) -> Response:
            return await handler.handle(request, provider, source)

        return receive

    guarded = "Guarded by the deployment secret: path token (/t/<secret>/) or Basic-auth password."
    for provider in PROVIDERS.values():
        for route in provider.callback_routes:
            for path in route.paths:
                router.add_api_route(
                    path,
                    endpoint(provider, route.source),
                    methods=[route.method],
                    summary=route.summary,
                    description=f"{route.description} {guarded}",
                    response_class=Response,
                    responses={
                        200: {"description": "the provider's reply (its own content type)"},
                        **responses(400, 401, 403, 413, 415, 503),
                    },
                    tags=[provider.name],
                )
    return router
