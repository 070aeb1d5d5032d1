"""Delivering the queued status callbacks (:mod:`switchboard.status_callbacks` for the outbox).

A loop claims the calls whose next callback is due (``sb:notify:due``, Redis clock; a claim pushes
the call's time ``visibility`` ahead, so a replica that dies mid-POST leaves it to be tried again
by any replica), and POSTs each call's first queued callback (lowest :data:`RANK`): the next
event of a call waits until the one before it is delivered or given up, so a customer sees a
call's events in order. 2xx: delivered (recorded in ``sb:notify:sent:<call>`` and published on
``voice.status-callbacks``). Anything else (an error status, a timeout, a refused connection): tried
again after tenacity's ``wait_exponential_jitter`` for that attempt, until ``SB_NOTIFY_GIVE_UP_S``
after it was queued; then it goes to ``voice.status-callbacks.dlq`` and the call's next event
follows. No call waits on this: the dialer and the flow-runner only write to Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from typing import cast
from urllib.parse import urlsplit

import httpx
import orjson
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis
from tenacity import RetryCallState, wait_exponential_jitter

from switchboard import metrics
from switchboard.kafka import publish_dlq
from switchboard.logging import get_logger
from switchboard.redis import NOTIFY_DUE_KEY, notify_queue_key, notify_sent_key, notify_tries_key
from switchboard.status_callbacks import KEEP_S, headers, tenant_key
from switchboard.tasks import cancel_and_wait
from switchboard.topics import Topic
from switchboard_notifier.settings import NotifierSettings

log = get_logger(__name__)

CLAIM = """
-- KEYS: due. ARGV: visibility ms, limit. Now is Redis's clock.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local calls = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, c in ipairs(calls) do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), c) end
return calls
"""


class Undeliverable(Exception):
    """The customer's server did not take a callback: ``status`` (HTTP status, 0 without an answer)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def _backoff(settings: NotifierSettings, attempt: int) -> float:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    wait = wait_exponential_jitter(initial=settings.notify_backoff_initial_s, max=settings.notify_backoff_max_s)
    return float(wait(state))


async def _refuse_private(url: str) -> None:
    """Raise :class:`Undeliverable` when ``url``'s host resolves to a loopback, private, link-local
    or reserved address."""
    host = urlsplit(url).hostname or ""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
            raise Undeliverable(f"{host} resolves to a non-public address ({address})")


class Courier:
    """Claims due calls and POSTs their callbacks; one per notifier replica."""

    def __init__(self, settings: NotifierSettings, redis: Redis, broker: KafkaBroker) -> None:
        self.settings = settings
        self.redis = redis
        self.broker = broker
        self.http = httpx.AsyncClient(timeout=settings.notify_timeout_s, follow_redirects=False)
        self._claim = redis.register_script(CLAIM)
        self._slots = asyncio.Semaphore(settings.notify_concurrency)
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self.secret = settings.status_callback_secret.get_secret_value()
        self.visibility_ms = int((settings.notify_timeout_s + 5) * 1000)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="status-callbacks")

    async def stop(self) -> None:
        """Stop claiming; let the POSTs in flight finish (their calls stay claimed otherwise)."""
        with contextlib.suppress(Exception):  # the loop's own failure is not the stop's
            await cancel_and_wait(self._task)
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        await self.http.aclose()

    async def _loop(self) -> None:
        while True:
            try:
                free = max(1, self.settings.notify_concurrency - len(self._inflight))
                calls = await self._claim(keys=[NOTIFY_DUE_KEY], args=[self.visibility_ms, free])
                for raw in calls:
                    task = asyncio.create_task(self._deliver_next(raw.decode()))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: try again at the next tick
                log.warning("status callbacks not claimed", error=str(exc)[:200])
            await asyncio.sleep(self.settings.notify_poll_s)

    async def _deliver_next(self, call_key: str) -> None:
        async with self._slots:
            try:
                await self.deliver_next(call_key)
            except Exception as exc:  # left claimed: tried again when the claim runs out
                log.warning("status callback not handled", call_key=call_key, error=str(exc)[:200])

    async def deliver_next(self, call_key: str) -> None:
        """POST ``call_key``'s first queued callback and reschedule the call (module docstring)."""
        head = await self.redis.zrange(notify_queue_key(call_key), 0, 0)
        if not head:
            await self.redis.zrem(NOTIFY_DUE_KEY, call_key)
            return
        raw = cast(bytes, head[0])
        item = orjson.loads(raw)
        payload: bytes = item["b"].encode()
        attempts_key = notify_tries_key(call_key)
        attempt = int(await self.redis.hincrby(attempts_key, item["e"], 1))
        await self.redis.expire(attempts_key, KEEP_S)
        try:
            status = await self._post(item["u"], payload, tenant_key(self.secret, item["t"]))
        except Undeliverable as exc:
            given_up = time.time() - item["at"] / 1000 >= self.settings.notify_give_up_s
            metrics.STATUS_CALLBACKS.labels("given_up" if given_up else "retry").inc()
            if not given_up:
                delay = _backoff(self.settings, attempt)
                now_ms = int(time.time() * 1000)
                await self.redis.zadd(NOTIFY_DUE_KEY, {call_key: now_ms + int(delay * 1000)})
                log.info(
                    "status callback failed; retried later",
                    call_key=call_key,
                    event=item["e"],
                    attempt=attempt,
                    retry_in_s=round(delay, 2),
                    error=str(exc)[:200],
                )
                return
            await publish_dlq(
                self.broker,
                Topic.STATUS_CALLBACKS.value,
                body=payload,
                key=call_key.encode(),
                error=exc,
                headers={"x-url": item["u"][:2000], "x-attempts": str(attempt), "x-http-status": str(exc.status)},
            )
            await self._done(call_key, item["e"], raw)
            return
        metrics.STATUS_CALLBACKS.labels("delivered").inc()
        await self.broker.publish(
            payload,
            Topic.STATUS_CALLBACKS.value,
            key=call_key.encode(),
            headers={"x-url": item["u"][:2000], "x-attempts": str(attempt), "x-http-status": str(status)},
        )
        await self._done(call_key, item["e"], raw)

    async def _done(self, call_key: str, event: str, raw: bytes) -> None:
        """The event is finished with (delivered or given up): the call's next one is due now."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(notify_sent_key(call_key), event)
            pipe.expire(notify_sent_key(call_key), KEEP_S)
            pipe.zrem(notify_queue_key(call_key), raw)
            pipe.zcard(notify_queue_key(call_key))
            left = (await pipe.execute())[3]
        if left:
            await self.redis.zadd(NOTIFY_DUE_KEY, {call_key: 0})
        else:
            await self.redis.zrem(NOTIFY_DUE_KEY, call_key)

    async def _post(self, url: str, payload: bytes, key: str) -> int:
        if not self.settings.notify_allow_private:
            try:
                await _refuse_private(url)
            except OSError as exc:
                raise Undeliverable(f"cannot resolve: {exc}") from exc
        try:
            answer = await self.http.post(url, content=payload, headers=headers(key, payload))
        except httpx.HTTPError as exc:
            raise Undeliverable(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= answer.status_code < 300:
            raise Undeliverable(f"HTTP {answer.status_code}", answer.status_code)
        return answer.status_code
