"""Status callbacks to a customer's application: the signature and the body (docs/status-callbacks.md).

Each POST carries two headers, in the manner of Stripe's and Slack's webhook signatures:

- ``X-Switchboard-Timestamp``: when the request was signed, whole seconds since the Unix epoch;
- ``X-Switchboard-Signature``: ``v1=`` followed by the lowercase hex HMAC-SHA256, keyed with the
  tenant's status-callback key, of ``<timestamp>.<raw body bytes>``.

A receiver recomputes the HMAC over the raw body it received, compares in constant time, and
refuses a timestamp older than a few minutes (a replay). The tenant's key is
:func:`tenant_key` of the platform's ``SB_STATUS_CALLBACK_SECRET``; the api shows it to the tenant
(``GET /v1/status-callbacks/key``), so rotating the platform secret rotates every tenant's key.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import orjson

from switchboard.events import CdrRecorded, Direction, StatusCallbackEvent, StatusCallbackPosted
from switchboard.redis import NOTIFY_DUE_KEY, notify_cfg_key, notify_early_key, notify_queue_key, notify_sent_key

TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
SIGNATURE_HEADER = "X-Switchboard-Signature"
SCHEME = "v1"
RANK: dict[str, int] = {"initiated": 1, "ringing": 2, "answered": 3, "completed": 4}
"""A call's events in the order they are delivered: a later one waits while an earlier one is due."""


def tenant_key(secret: str, tenant_id: str) -> str:
    """The tenant's signing key (64 hex characters): HMAC-SHA256 of ``status-callbacks:<tenant>``
    keyed with the platform secret ``secret``."""
    return hmac.new(secret.encode(), f"status-callbacks:{tenant_id}".encode(), hashlib.sha256).hexdigest()


def sign(key: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256(key, "<timestamp>." + body)>``: the ``X-Switchboard-Signature`` value."""
    mac = hmac.new(key.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={mac}"


def verify(
    key: str, timestamp: str, signature: str, body: bytes, *, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """True when ``signature`` is :func:`sign` of ``body`` at ``timestamp`` and the timestamp is
    within ``tolerance_s`` seconds of ``now`` (default: the clock). What a receiver runs."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(key, ts, body), signature)


def headers(key: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The two signature headers for ``body`` signed now (or at ``now``, seconds)."""
    ts = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(key, ts, body), "Content-Type": "application/json"}


def body(event: StatusCallbackEvent, call: dict[str, Any], *, cdr: CdrRecorded | None = None) -> bytes:
    """The JSON a callback POSTs (:class:`~switchboard.events.StatusCallbackPosted`): ``event``,
    its ``sequence`` (:data:`RANK`), the call's ids and parties (``call``: the model's fields) and,
    on ``completed``, the ``cdr``."""
    posted = StatusCallbackPosted.model_validate({"event": event, "sequence": RANK[event], **call, "cdr": cdr})
    return posted.model_dump_json(by_alias=True).encode()


# --- the outbox in Redis (keys: switchboard.redis, notify_*) -------------------------------------
KEEP_S = 2 * 24 * 3600
"""How long a call's outbox keys live."""
EARLY_KEEP_S = 120
"""How long an event that came before the call's subscription waits for it (s)."""

PARK = """
-- KEYS: cfg, early. ARGV: event, its fields JSON, seconds to keep.
-- Keep an event that came before the call was subscribed; 0 when it is subscribed by now.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""

ENQUEUE = """
-- KEYS: cfg, queue, sent, due. ARGV: event, rank, item JSON, call key, seconds to keep.
-- Queue the item unless the call did not ask for the event or it was delivered already.
local events = redis.call('HGET', KEYS[1], 'events')
if not events or not string.find(events, '"' .. ARGV[1] .. '"', 1, true) then return 0 end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 0 end
if redis.call('ZCOUNT', KEYS[2], ARGV[2], ARGV[2]) > 0 then return 0 end  -- one per event and call
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[5])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[4], 'NX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[4])
return 1
"""


class Outbox:
    r"""Queues a call's callbacks in Redis for the notifier.

    The dialer :meth:`subscribe`\ s a call it places with a ``status_callback`` (where to, which
    events, the call's ids and parties), which queues ``initiated`` with it; the notifier queues ``ringing``
    and ``answered`` (``voice.call-events``) and ``completed`` (``voice.cdrs``) for a subscribed
    call. The provider's first callback can beat the dialer's subscription (the simulated Africa's
    Talking posts ``Ringing`` as it answers the dial request), so the notifier *parks* an outbound
    call's live event that finds no subscription (``park=True``, :data:`EARLY_KEEP_S`) and the
    dialer queues what was parked once it has subscribed (:meth:`subscribe` returns it). Parking
    and subscribing are each atomic, so an event is either parked before the subscription (and
    returned by it) or queued after it, and after ``initiated``. Raises redis-py's errors."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self._enqueue = redis.register_script(ENQUEUE)
        self._park = redis.register_script(PARK)

    async def subscribe(
        self,
        call_key: str,
        *,
        url: str,
        events: list[str],
        tenant_id: str,
        call_id: str,
        to: str,
        from_: str,
        campaign_id: str | None,
        provider: str,
        initiated_at: Any,
    ) -> list[dict[str, Any]]:
        """Remember where ``call_key``'s callbacks go, and the parties every callback names (``to``
        the person called, ``from`` the caller ID: the dialer's words, the same on every provider),
        and queue ``initiated`` (at ``initiated_at``) in the same transaction, so no later event of
        the call is queued before it. Returns the events parked before this subscription, in
        :data:`RANK` order, each as the keyword arguments of :meth:`queue`, for the caller to queue.
        They stay parked until they expire: queuing one twice is a no-op, so a caller that fails
        before queuing them loses nothing it could not do again."""
        cfg = {
            "url": url,
            "events": orjson.dumps(events).decode(),
            "tenant_id": tenant_id,
            "call_id": call_id,
            "to": to,
            "from": from_,
            "campaign_id": campaign_id or "",
        }
        initiated = self._item(call_key, cfg, "initiated", provider, Direction.OUTBOUND.value, initiated_at, None)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(notify_cfg_key(call_key), mapping=cfg)
            pipe.expire(notify_cfg_key(call_key), KEEP_S)
            await self._enqueue(
                keys=self._queue_keys(call_key), args=["initiated", RANK["initiated"], initiated, call_key, KEEP_S],
                client=pipe,
            )  # fmt: skip
            pipe.hgetall(notify_early_key(call_key))
            early = (await pipe.execute())[3]
        parked = [{"event": k.decode(), **orjson.loads(v)} for k, v in early.items()]
        return sorted(parked, key=lambda e: RANK[e["event"]])

    @staticmethod
    def _queue_keys(call_key: str) -> list[str]:
        return [notify_cfg_key(call_key), notify_queue_key(call_key), notify_sent_key(call_key), NOTIFY_DUE_KEY]

    @staticmethod
    def _item(
        call_key: str,
        cfg: dict[str, str],
        event: StatusCallbackEvent,
        provider: str,
        direction: str,
        occurred_at: Any,
        cdr: CdrRecorded | None,
    ) -> bytes:
        """The queued item: the event, where it goes, and its body (:func:`body`)."""
        call = {
            "call_id": cfg["call_id"],
            "call_key": call_key,
            "tenant_id": cfg["tenant_id"],
            "provider": provider,
            "direction": direction,
            "to": cfg["to"],
            "from": cfg["from"],
            "campaign_id": cfg["campaign_id"] or None,
            "occurred_at": occurred_at,
        }
        payload = body(event, call, cdr=cdr)
        return orjson.dumps(
            {"e": event, "u": cfg["url"], "t": cfg["tenant_id"], "b": payload.decode(), "at": int(time.time() * 1000)}
        )

    async def queue(
        self,
        call_key: str,
        event: StatusCallbackEvent,
        *,
        provider: str,
        direction: str,
        occurred_at: Any,
        cdr: CdrRecorded | None = None,
        park: bool = False,
    ) -> bool:
        """Queue ``event`` for ``call_key`` (its body: :func:`body`) if the call subscribed to it and
        it is neither queued nor delivered already; True when queued. With ``park``, an event for a
        call not subscribed (yet) is kept for :meth:`subscribe` (not for ``completed``, whose CDR
        always follows the dial attempt)."""
        raw = await self.redis.hgetall(notify_cfg_key(call_key))
        if not raw and park:
            fields = orjson.dumps({"provider": provider, "direction": direction, "occurred_at": occurred_at})
            keys = [notify_cfg_key(call_key), notify_early_key(call_key)]
            if await self._park(keys=keys, args=[event, fields, EARLY_KEEP_S]):
                return False
            raw = await self.redis.hgetall(notify_cfg_key(call_key))  # subscribed meanwhile
        if not raw:
            return False
        cfg = {k.decode(): v.decode() for k, v in raw.items()}
        item = self._item(call_key, cfg, event, provider, direction, occurred_at, cdr)
        return bool(
            await self._enqueue(keys=self._queue_keys(call_key), args=[event, RANK[event], item, call_key, KEEP_S])
        )
