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
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis
from starlette.exceptions import HTTPException
from tenacity import AsyncRetrying, stop_after_delay, wait_exponential

from switchboard import metrics
from switchboard.accounts import ProviderClients
from switchboard.errors import AuthenticationFailed, Forbidden, InvalidEvent, ServiceUnavailable
from switchboard.events import CallEvent, encode
from switchboard.logging import bind_call, get_logger
from switchboard.problems import responses
from switchboard.providers import PROVIDERS
from switchboard.providers.base import CallbackRequest, CallbackSource, ParsedCallback, Provider, Reply
from switchboard.redis import as_bytes, fallbacks_key, seen_key
from switchboard.replies import ReplyListener
from switchboard.topics import Topic
from switchboard_ingress.guard import check
from switchboard_ingress.hold import hold_audio_url_for
from switchboard_ingress.settings import IngressSettings

log = get_logger(__name__)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


MAX_FORM_FIELDS = 200


async def read_form(request: Request, content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a form body; at most :data:`MAX_FORM_FIELDS` of them, and no files. Raises
    :class:`InvalidEvent` (400) naming ``body`` otherwise."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        try:
            pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except ValueError:
            raise InvalidEvent(f"more than {MAX_FORM_FIELDS} form fields", field="body") from None
        return dict(pairs)
    try:
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except HTTPException as exc:
        raise InvalidEvent(f"the form body is refused: {exc.detail}", field="body") from None
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def read_callback(
    request: Request, source: CallbackSource, clients: ProviderClients, provider: str
) -> CallbackRequest:
    """The framework-free view of ``request`` a provider parses. A form body is decoded here
    (multipart too); the raw bytes are kept for signatures."""
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    form = await read_form(request, content_type, body) if content_type.startswith(FORM_TYPES) else None
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


FALLBACK_HEADER = "X-Switchboard-Fallback"
RESULTS = ("reply", "fallback", "refused", "unavailable", "error")


def as_response(reply: Reply, *, fallback: bool = False) -> Response:
    headers = {FALLBACK_HEADER: "1"} if fallback else None
    return Response(reply.body, media_type=reply.content_type, headers=headers)


RETRY_OF = "retry_of"
"""Query parameter of a fallback redirect: the event whose reply the provider's follow-up gets."""


def with_retry_of(url: str, event_id: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query[RETRY_OF] = event_id
    return urlunsplit(parts._replace(query=urlencode(query)))


class CallbackHandler:
    """Runs the pipeline of the module docstring with one deadline per request.

    Crash stories this covers (ARCHITECTURE §4, §7):

    - **The runner is late or restarting.** The live request gets the provider's fallback at the
      deadline. For a provider whose fallback redirects (hold prompt + ``<Redirect>``), the redirect
      URL carries ``retry_of=<event id>``: the provider's follow-up request is answered with that
      event's reply once the runner has applied it, never taken for a new event (which would lose
      the caller's key press, or read as an empty one).
    - **Redis or the broker hangs or is down.** Recording the event (duplicate guard + publish) runs
      in a task of its own; the request waits for it only until the deadline, then answers the
      fallback while the task keeps publishing with backoff for ``publish_retry_s``, so the event
      reaches the runner when the broker is back and the follow-up finds its reply. A notification
      that needs no reply gets 503 instead, and the provider sends it again.
    - **The ingress dies** with events still being recorded: those are lost, as any in-flight
      request is; the provider's own retry (or the follow-up redirect) starts over.
    """

    def __init__(
        self,
        settings: IngressSettings,
        broker: KafkaBroker,
        redis: Redis,
        clients: ProviderClients,
        replies: ReplyListener,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.redis = redis
        self.clients = clients
        self.replies = replies
        self.policy = settings.fallback_policy()
        self.recording: set[asyncio.Task[str | None]] = set()
        self._last_recording: dict[str, asyncio.Task[str | None]] = {}
        self._counting: set[asyncio.Task[None]] = set()

    async def _first_seen(self, provider: Provider, parsed: ParsedCallback) -> str | None:
        """None if this callback is new (and now remembered) or Redis cannot tell, else the first
        copy's event id."""
        key = seen_key(provider.name, parsed.dedupe_key)
        try:
            if await self.redis.set(key, parsed.event.event_id, nx=True, ex=self.settings.dedupe_ttl_s):
                return None
            first = await self.redis.get(key)
        except Exception as exc:
            # Without the guard a duplicate may get through; downstream absorbs it (state keyed by
            # event, CDR upsert by call key). Dropping a final notification would lose the CDR.
            log.warning("duplicate guard unavailable; publishing anyway", error=repr(exc))
            return None
        return as_bytes(first).decode() if first else parsed.event.event_id

    async def _send(self, event: CallEvent) -> None:
        async with asyncio.timeout(self.settings.publish_timeout_s):
            await self.broker.publish(encode(event), Topic.CALL_EVENTS.value, key=event.call_key.encode())

    async def _publish(self, event: CallEvent) -> None:
        """Publish with backoff for up to ``publish_retry_s`` in all, each try bounded by
        ``publish_timeout_s``. Raises the last error past that. The first try goes without
        tenacity's machinery (about 3 % of the ingress's CPU per callback when every try succeeds)."""
        started = time.monotonic()
        try:
            return await self._send(event)
        except Exception as exc:
            log.warning("publish failed; retrying", error=repr(exc))
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(max(0.0, self.settings.publish_retry_s - (time.monotonic() - started))),
            wait=wait_exponential(multiplier=0.05, max=1),
            reraise=True,
        ):
            with attempt:
                await self._send(event)

    async def _record(self, provider: Provider, parsed: ParsedCallback) -> str | None:
        """Duplicate guard, then publish. Returns the first copy's event id for a duplicate
        (nothing published), else None. Raises when the event could not be published."""
        first = await self._first_seen(provider, parsed)
        if first is not None:
            return first
        try:
            await self._publish(parsed.event)
        except BaseException as exc:
            log.error("publish failed", error=repr(exc), type=parsed.event.type)
            with contextlib.suppress(Exception):  # let the provider's retry through the guard
                await self.redis.delete(seen_key(provider.name, parsed.dedupe_key))
            raise
        return None

    async def record(self, provider: Provider, parsed: ParsedCallback) -> str | None:
        """Record an event that did not come as a request (a pulled report): the same duplicate
        guard and publish as a pushed one, in the call's order. Returns the first copy's event id
        for a duplicate, else None; raises when it could not be published."""
        return await self._start_recording(provider, parsed)

    def _start_recording(self, provider: Provider, parsed: ParsedCallback) -> asyncio.Task[str | None]:
        """Record in a task of its own, after the call's previous callback is recorded: one call's
        events are published in the order they arrived even when Redis or the broker stalls (a key
        press must reach the runner before the hang-up that followed it, or its CDR misses it)."""
        call_key = parsed.event.call_key
        before = self._last_recording.get(call_key)

        async def in_order(before: asyncio.Task[str | None]) -> str | None:
            await asyncio.wait([before])
            return await self._record(provider, parsed)

        task = asyncio.ensure_future(in_order(before) if before else self._record(provider, parsed))
        self._last_recording[call_key] = task
        task.add_done_callback(lambda t: self._last_recording.get(call_key) is t and self._last_recording.pop(call_key))
        self.recording.add(task)
        task.add_done_callback(self.recording.discard)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: logged in _record
        return task

    async def _count_fallback(self) -> None:
        """Count the fallback for the console's live view (``sb:fallbacks:<minute>``), in the
        background: the fallback may be answering because Redis is the part that failed."""

        async def count() -> None:
            key = fallbacks_key(int(time.time() // 60))
            with contextlib.suppress(Exception):
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, 3600)
                    await asyncio.wait_for(pipe.execute(), 1.0)

        task = asyncio.create_task(count())
        self._counting.add(task)
        task.add_done_callback(self._counting.discard)

    async def drain(self) -> None:
        """Wait (bounded by ``publish_retry_s``) for events still being recorded (shutdown)."""
        if self.recording:
            await asyncio.wait(set(self.recording), timeout=self.settings.publish_retry_s)

    async def handle(self, request: Request, provider: Provider, source: CallbackSource) -> Response:
        """Raises :class:`InvalidEvent`/:class:`AuthenticationFailed` for a request the provider
        refuses (mapped to 400/415/401), :class:`ServiceUnavailable` when a notification that needs
        no reply could not be recorded in time (503: the provider retries)."""
        parsed = provider.parse(await read_callback(request, source, self.clients, provider.name))
        event = parsed.event
        bind_call(call_key=event.call_key, event_id=event.event_id)
        deadline = time.monotonic() + self.settings.reply_timeout_s
        retry_of = request.query_params.get(RETRY_OF)
        if retry_of and event.expects_reply:
            # The provider followed our fallback redirect: this is the same event, still awaited.
            log.info("fallback follow-up", retry_of=retry_of)
            waiting = self.replies.wait(event.call_key, retry_of, deadline - time.monotonic())
            return await self._answer(waiting, retry_of, request, provider)
        answered = self.replies.expect(event.call_key, event.event_id) if event.expects_reply else None
        recording = self._start_recording(provider, parsed)
        if not event.expects_reply:
            # a batch (ParsedCallback.more) is acknowledged once every event in it is recorded
            batch = [recording, *(self._start_recording(provider, more) for more in parsed.more)]
            try:
                firsts = await asyncio.wait_for(asyncio.shield(asyncio.gather(*batch)), self.settings.reply_timeout_s)
            except Exception as exc:
                raise ServiceUnavailable("the event could not be recorded in time; retry later") from exc
            for first in firsts:
                if first is not None:
                    metrics.DUPLICATES.labels(provider.name).inc()
                    log.info("duplicate callback", first_event_id=first, type=event.type)
            return as_response(provider.ack(source))
        assert answered is not None
        awaited = [event.event_id]

        async def reply() -> Reply | None:
            try:
                first = await asyncio.shield(recording)
            except BaseException:
                self.replies.forget(event.event_id, answered)
                raise
            if first is not None:
                self.replies.forget(event.event_id, answered)
                metrics.DUPLICATES.labels(provider.name).inc()
                log.info("duplicate callback", first_event_id=first, type=event.type)
                awaited[0] = first
                return await self.replies.wait(event.call_key, first, deadline - time.monotonic())
            return await self.replies.wait_for(event.event_id, answered, deadline - time.monotonic())

        try:
            return await self._answer(reply(), awaited, request, provider)
        finally:
            self.replies.forget(event.event_id, answered)

    async def _answer(
        self,
        waiting: Coroutine[Any, Any, Reply | None],
        event_id: str | list[str],
        request: Request,
        provider: Provider,
    ) -> Response:
        """The reply ``waiting`` produces within the deadline, else the provider's fallback (which,
        where it redirects, comes back with ``retry_of`` = the awaited event)."""
        try:
            reply = await asyncio.wait_for(waiting, self.settings.reply_timeout_s)
        except Exception as exc:  # Redis or the broker failing or hanging: never silence
            log.error("reply unavailable", error=repr(exc))
            reply = None
        if reply is None:
            awaited = event_id if isinstance(event_id, str) else event_id[0]
            log.warning("reply deadline passed; fallback sent", awaited=awaited)
            await self._count_fallback()
            url = with_retry_of(str(request.url), awaited)
            policy = self.policy
            if policy.hold_audio_url is None:  # the ingress's own tone, on the origin the provider used
                policy = dataclasses.replace(policy, hold_audio_url=hold_audio_url_for(url))
            return as_response(provider.fallback(url, policy), fallback=True)
        return as_response(reply)


class LeanRoute(APIRoute):
    """An ``APIRoute`` whose handler is the endpoint itself, called with the ``Request``: documented
    in OpenAPI like any route, served without FastAPI's dependency solving, which was about a tenth
    of the ingress's CPU per callback (py-spy, ``bench/webhook_roundtrip.py --profile``). Its
    endpoint takes the ``Request`` alone and returns a ``Response``; it does its own checks."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return cast(Callable[[Request], Coroutine[Any, Any, Response]], self.endpoint)


def build_router(handler: CallbackHandler) -> APIRouter:
    """Every provider's callback routes (``Provider.callback_routes``), guarded."""
    router = APIRouter(route_class=LeanRoute)
    settings = handler.settings

    def endpoint(provider: Provider, source: CallbackSource) -> Callable[..., Awaitable[Response]]:
        answered = metrics.CALLBACK_SECONDS.labels(provider.name)
        results = {r: metrics.CALLBACKS.labels(provider.name, r) for r in RESULTS}

        async def receive(request: Request) -> Response:
            started = time.monotonic()
            result = "error"
            try:
                if reason := check(request, settings, request.path_params.get("token")):
                    result = "refused"
                    raise Forbidden(f"forbidden: {reason}")
                response = await handler.handle(request, provider, source)
                result = "fallback" if FALLBACK_HEADER in response.headers else "reply"
                return response
            except (InvalidEvent, AuthenticationFailed):
                result = "refused"
                raise
            except ServiceUnavailable:
                result = "unavailable"
                raise
            finally:
                results[result].inc()
                answered.observe(time.monotonic() - started)

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
