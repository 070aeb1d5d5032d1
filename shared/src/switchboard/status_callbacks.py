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

from switchboard.events import CdrRecorded, StatusCallbackEvent, StatusCallbackPosted

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
    its ``sequence`` (:data:`RANK`), the call's ids and parties (``call``, from :func:`call_fields`)
    and, on ``completed``, the ``cdr``."""
    posted = StatusCallbackPosted.model_validate({"event": event, "sequence": RANK[event], **call, "cdr": cdr})
    return posted.model_dump_json(by_alias=True).encode()


# --- the outbox in Redis ----------------------------------------------------------------------
# sb:notify:cfg:<call key>  hash   url, events (JSON list), tenant_id, call_id: a call's subscription
# sb:notify:q:<call key>    zset   queued callbacks of the call (JSON item), scored by RANK
# sb:notify:due             zset   call keys with a callback to try, scored by when (ms, Redis clock)
# sb:notify:sent:<call key> set    events delivered or given up (a redelivered event is not queued again)
# Every per-call key lives KEEP_S; the due set is pruned as calls finish.
KEEP_S = 2 * 24 * 3600


def cfg_key(call_key: str) -> str:
    return f"sb:notify:cfg:{call_key}"


def queue_key(call_key: str) -> str:
    return f"sb:notify:q:{call_key}"


def sent_key(call_key: str) -> str:
    return f"sb:notify:sent:{call_key}"


DUE_KEY = "sb:notify:due"

ENQUEUE = """
-- KEYS: cfg, queue, sent, due. ARGV: event, rank, item JSON, call key, seconds to keep.
-- Queue the item unless the call did not ask for the event or it was delivered already.
local events = redis.call('HGET', KEYS[1], 'events')
if not events or not string.find(events, '"' .. ARGV[1] .. '"', 1, true) then return 0 end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 0 end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[2], ARGV[2])) do
  return 0  -- one item per event and call
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[5])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[4], 'NX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[4])
return 1
"""


def call_fields(
    *,
    call_id: str | None,
    call_key: str,
    tenant_id: str,
    provider: str,
    direction: str,
    to: str,
    from_: str,
    campaign_id: str | None,
    occurred_at: Any,
) -> dict[str, Any]:
    """The call part of a callback body (see :func:`body`)."""
    return {
        "call_id": call_id,
        "call_key": call_key,
        "tenant_id": tenant_id,
        "provider": provider,
        "direction": direction,
        "to": to,
        "from": from_,
        "campaign_id": campaign_id,
        "occurred_at": occurred_at,
    }


class Outbox:
    """Queues a call's callbacks in Redis for the notifier (module comment above for the keys).

    Producers: the dialer (``subscribe`` when it places a call with a ``status_callback``, and the
    ``initiated`` event), the notifier (``ringing``, ``answered`` from ``voice.call-events``,
    ``completed`` from ``voice.cdrs``). Raises redis-py's errors."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self._enqueue = redis.register_script(ENQUEUE)

    async def subscribe(self, call_key: str, *, url: str, events: list[str], tenant_id: str, call_id: str) -> None:
        """Remember where ``call_key``'s callbacks go."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                cfg_key(call_key),
                mapping={"url": url, "events": orjson.dumps(events), "tenant_id": tenant_id, "call_id": call_id},
            )
            pipe.expire(cfg_key(call_key), KEEP_S)
            await pipe.execute()

    async def subscription(self, call_key: str) -> dict[str, str] | None:
        """``{"url", "events", "tenant_id", "call_id"}`` of the call, or None when it asked for nothing."""
        raw = await self.redis.hgetall(cfg_key(call_key))
        return {k.decode(): v.decode() for k, v in raw.items()} if raw else None

    async def enqueue(self, call_key: str, event: StatusCallbackEvent, payload: bytes) -> bool:
        """Queue ``payload`` (:func:`body`) as the call's ``event`` if the call asked for it and it
        is not queued or delivered already; True when queued."""
        cfg = await self.subscription(call_key)
        if cfg is None:
            return False
        item = orjson.dumps(
            {"e": event, "u": cfg["url"], "t": cfg["tenant_id"], "b": payload.decode(), "at": int(time.time() * 1000)}
        )
        keys = [cfg_key(call_key), queue_key(call_key), sent_key(call_key), DUE_KEY]
        return bool(await self._enqueue(keys=keys, args=[event, RANK[event], item, call_key, KEEP_S]))
