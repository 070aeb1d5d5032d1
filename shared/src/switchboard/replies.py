"""The one reply channel (ARCHITECTURE §4): how a rendered reply gets from the flow-runner to the
ingress request that waits for it. This module is the only owner of replies in Redis.

Layout (one call's keys share a cluster slot through the ``{<call key>}`` hash tag):

- ``sb:replied:{<call key>}:<event id>``: the reply to one event, stored once, as bytes
  ``<content type> LF <body>`` (TTL ``REPLY_TTL_S``).
- channel ``sb:replies``: every stored reply is also published there as
  ``<event id> LF <content type> LF <body>``.

**Writer** (flow-runner): :func:`save_state_and_reply` saves the call state with its
compare-and-set, stores the reply, publishes it and links Switchboard's call id to the call key,
in one Lua script: one round trip, and never a reply without its state or a state without its
reply.

**Reader** (ingress): one :class:`ReplyListener` per process holds one subscription to
``sb:replies`` and completes the future of each request waiting for that event id. No request
holds a Redis connection while it waits, and nothing polls.

Crash stories:

1. *The runner dies before the script runs*: nothing is stored; Kafka redelivers the event to
   another runner, which replies; a request still waiting gets it, one that passed its deadline has
   answered the provider's fallback, and the follow-up (``retry_of``) waits here for the same event.
2. *The runner dies after the script, before the offset is committed*: the event is redelivered,
   found applied (``CallState.applied_events``) and skipped: its reply is stored and was published.
3. *A duplicate callback* (same event, any ingress replica): waits on the first copy's event id;
   :meth:`ReplyListener.wait` reads the stored copy after registering, so a reply published before
   the duplicate arrived is not missed.
4. *The listener's connection drops*: replies published meanwhile are missed by the channel, so on
   reconnecting the listener reads the stored copy of every event still awaited.
5. *Redis restarts*: stored replies may be gone; waiting requests reach their deadline and answer
   the fallback; the call goes on from the state the runner saves next.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis

from switchboard.logging import get_logger
from switchboard.providers.base import Reply
from switchboard.redis import as_bytes
from switchboard.tasks import cancel_and_wait

log = get_logger(__name__)

CHANNEL = "sb:replies"
REPLY_TTL_S = 3600


def reply_key(call_key: str, event_id: str) -> str:
    """``sb:replied:{<call key>}:<event id>``: the stored reply to one event."""
    return f"sb:replied:{{{call_key}}}:{event_id}"


def pack(reply: Reply) -> bytes:
    """``<content type> LF <body>``: how a reply is stored."""
    return reply.content_type.encode() + b"\n" + reply.body


def unpack(packed: bytes) -> Reply:
    content_type, _, body = packed.partition(b"\n")
    return Reply(body, content_type.decode())


# KEYS: state, reply, call-id link. ARGV: expected version, state JSON, state TTL s, packed reply
# ('' for none), reply TTL s, channel, event id, call key ('' for no link).
_SAVE_AND_REPLY = """
local cur = redis.call('GET', KEYS[1])
local expected = tonumber(ARGV[1])
if cur then
  if cjson.decode(cur)['version'] ~= expected then return 0 end
elseif expected ~= 0 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[2], ARGV[4], 'EX', tonumber(ARGV[5]))
  redis.call('PUBLISH', ARGV[6], ARGV[7] .. '\\n' .. ARGV[4])
end
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[3], ARGV[8], 'EX', tonumber(ARGV[3]))
end
return 1
"""


class ReplyWriter:
    """The flow-runner's side: :meth:`save` is the compare-and-set save of a call's state, with
    the reply to one event and the call-id link in the same script."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._script = redis.register_script(_SAVE_AND_REPLY)

    async def save(
        self,
        *,
        state_key: str,
        expected_version: int,
        state_json: bytes,
        state_ttl_s: int,
        call_key: str,
        event_id: str | None = None,
        reply: Reply | None = None,
        link_key: str | None = None,
    ) -> bool:
        """Save the state if its stored version is ``expected_version`` (0: must not exist), and
        then store and publish ``reply`` to ``event_id`` and set ``link_key`` → ``call_key``.
        Returns False, having written nothing, when another writer saved first."""
        packed = pack(reply) if reply is not None and event_id is not None else b""
        ok = await self._script(
            keys=[state_key, reply_key(call_key, event_id or ""), link_key or state_key],
            args=[
                expected_version,
                state_json,
                state_ttl_s,
                packed,
                REPLY_TTL_S,
                CHANNEL,
                event_id or "",
                call_key if link_key else "",
            ],
        )
        return bool(ok)


async def stored_reply(redis: Redis, call_key: str, event_id: str) -> Reply | None:
    raw = await redis.get(reply_key(call_key, event_id))
    return None if raw is None else unpack(as_bytes(raw))


class ReplyListener:
    """The ingress's side: one subscription per process, a future per awaited event id.

    Use :meth:`expect` before the event can possibly be answered (before publishing it) and
    :meth:`wait` for an event that may have been answered already (a duplicate, a follow-up).
    """

    def __init__(self, redis: Redis, *, reconnect_s: float = 0.5) -> None:
        self.redis = redis
        self.reconnect_s = reconnect_s
        self._waiting: dict[str, tuple[str, list[asyncio.Future[Reply]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connected = asyncio.Event()

    def expect(self, call_key: str, event_id: str) -> asyncio.Future[Reply]:
        """A future completed with the reply to ``event_id`` when it is published. The caller
        must :meth:`forget` it when done (``wait`` does that itself)."""
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(event_id, (call_key, []))[1].append(future)
        return future

    def forget(self, event_id: str, future: asyncio.Future[Reply]) -> None:
        entry = self._waiting.get(event_id)
        if entry is None:
            return
        with contextlib.suppress(ValueError):
            entry[1].remove(future)
        if not entry[1]:
            del self._waiting[event_id]

    async def wait_for(self, event_id: str, future: asyncio.Future[Reply], timeout_s: float) -> Reply | None:
        """The reply ``future`` (from :meth:`expect`) gets within ``timeout_s``, else None."""
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(0.0, timeout_s))
        except TimeoutError:
            return None
        finally:
            self.forget(event_id, future)

    async def wait(self, call_key: str, event_id: str, timeout_s: float) -> Reply | None:
        """The reply to an event that may already be answered: registered first, then the stored
        copy is read, then the channel is awaited until ``timeout_s``. Raises redis-py errors when
        Redis cannot be read."""
        future = self.expect(call_key, event_id)
        try:
            stored = await stored_reply(self.redis, call_key, event_id)
        except BaseException:
            self.forget(event_id, future)
            raise
        if stored is not None:
            self.forget(event_id, future)
            return stored
        return await self.wait_for(event_id, future, timeout_s)

    def _complete(self, event_id: str, reply: Reply) -> None:
        entry = self._waiting.pop(event_id, None)
        for future in entry[1] if entry else ():
            if not future.done():
                future.set_result(reply)

    def _on_message(self, data: bytes) -> None:
        event_id, _, packed = data.partition(b"\n")
        self._complete(event_id.decode(), unpack(packed))

    async def _catch_up(self, awaited: Iterable[tuple[str, str]]) -> None:
        """After (re)subscribing: complete waiters whose reply was stored while we were away."""
        for event_id, call_key in awaited:
            stored = await stored_reply(self.redis, call_key, event_id)
            if stored is not None:
                self._complete(event_id, stored)

    async def _listen(self) -> None:
        while not self._stopping:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self.connected.set()
                await self._catch_up([(e, c) for e, (c, _) in list(self._waiting.items())])
                while not self._stopping:
                    message: dict[str, Any] | None = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._on_message(as_bytes(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected.clear()
                log.warning("reply channel lost; reconnecting", error=repr(exc))
                await asyncio.sleep(self.reconnect_s)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        # The flag as well as the cancel: a cancel that lands as redis-py's read timeout fires is
        # taken for the timeout (get_message answers None) and would be lost; the flag ends the
        # loop within one read timeout (1 s) regardless.
        self._stopping = True
        await cancel_and_wait(self._task)
