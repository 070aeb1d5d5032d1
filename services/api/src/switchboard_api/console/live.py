"""The console's live view: a tenant's calls in progress and the platform's pulse, as one JSON
snapshot the live page receives every second over server-sent events.

Sources (all in Redis but the lag): the tenant's live set ``sb:live:{tenant}`` (the dialer adds a
call when the provider accepts it, the flow-runner an inbound call at its first turn, and removes
every call when its end is handled) and each call's state, the per-second call-start counters
``sb:starts:{tenant}:<s>``, the ingress's per-minute fallback counters ``sb:fallbacks:<minute>``
(platform-wide), and consumer lag read from the broker (committed vs end offsets of the services'
consumer groups, cached ``lag_every_s``). The fallbacks and the lag are the platform's health,
not a tenant's data: every console user sees them, as a provider's status page shows them.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from switchboard.flow.document import path_of
from switchboard.flow.repository import FlowRepository
from switchboard.kafka import group_lag
from switchboard.logging import get_logger
from switchboard.redis import call_starts_key, call_state_key, fallbacks_key, live_calls_key
from switchboard.state import CallState
from switchboard.topics import Topic

log = get_logger(__name__)

CONSUMERS: tuple[tuple[str, str], ...] = (
    ("flow-runner", Topic.CALL_EVENTS.value),
    ("dialer", Topic.DIAL_REQUESTS.value),
    ("cdr-sink", Topic.SESSIONS_ENDED.value),
)
"""(consumer group, topic) pairs whose lag the live page shows: the call path's consumers."""
MAX_ROWS = 200
STALE_S = 4 * 3600


def call_row(state: CallState, flows: FlowRepository) -> dict[str, Any]:
    """One live call as the page shows it. ``number``: the other party (the caller of an inbound
    call, the callee of an outbound one); ``action``/``pointer``: the last action run (from the
    step trail); ``waiting``: what the call waits for; ``started_ms``: ms since the epoch. States
    keep the customer's phone in ``caller_number`` on both directions (Africa's Talking's
    convention, which the dialer follows), the platform's number in ``destination_number``."""
    last = next((e for e in reversed(state.trail) if e.get("k") == "act"), None)
    row: dict[str, Any] = {
        "call_key": state.call_key,
        "call_id": state.call_id,
        "direction": state.direction,
        "number": state.caller_number,
        "provider": state.provider,
        "account": state.account,
        "flow": state.flow_ref,
        "flow_version": state.flow_version,
        "campaign_id": state.campaign_id,
        "status": state.status,
        "action": last["a"] if last else None,
        "pointer": last["p"] if last else None,
        "waiting": state.waiting.action if state.waiting else None,
        "started_ms": int(state.created_at.timestamp() * 1000),
        "answered": state.answered_at is not None,
    }
    if row["waiting"] == "QUEUE":
        row["queue"] = _queue_name(state, flows, last["p"] if last else None)
    return row


def _queue_name(state: CallState, flows: FlowRepository, pointer: str | None) -> str:
    """The ``name`` of the QUEUE action the call waits in, as written in its flow version."""
    flow = flows.for_tenant(state.tenant_id).get(state.flow_ref or "", state.flow_version)
    node = flow.nodes.get(path_of(pointer)) if flow and pointer else None
    name = getattr(node.params, "name", None) if node else None
    return str(name) if name else "(unnamed)"


class LiveView:
    def __init__(self, redis: Redis, flows: FlowRepository, bootstrap: str, *, lag_every_s: float = 5.0) -> None:
        self.redis = redis
        self.flows = flows
        self.bootstrap = bootstrap
        self.lag_every_s = lag_every_s
        self._lag: dict[str, int | None] = {}
        self._lag_at = 0.0
        self._lag_lock = asyncio.Lock()

    async def calls(self, tenant_id: str) -> tuple[list[dict[str, Any]], int]:
        """The tenant's newest live calls (at most :data:`MAX_ROWS`) and how many there are in all.
        Members whose state is gone (expired, never ended) or older than 4 h are pruned."""
        key = live_calls_key(tenant_id)
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - STALE_S)
            pipe.zrevrange(key, 0, MAX_ROWS - 1)
            pipe.zcard(key)
            _, members, total = await pipe.execute()
        call_keys = [m.decode() if isinstance(m, bytes) else m for m in members]
        raws = await self.redis.mget([call_state_key(k) for k in call_keys]) if call_keys else []
        rows, gone = [], []
        for call_key, raw in zip(call_keys, raws, strict=True):
            if raw is None:
                gone.append(call_key)
                continue
            try:
                state = CallState.model_validate_json(raw)
            except ValidationError:
                continue
            if state.status != "ended":
                rows.append(call_row(state, self.flows))
            else:
                gone.append(call_key)
        if gone:
            await self.redis.zrem(key, *gone)
        return rows, int(total) - len(gone)

    async def rates(self, tenant_id: str) -> dict[str, Any]:
        """Calls started per second over the last 10 s and 60 s; fallbacks per minute for the last
        15 minutes (oldest first) and their sum over the last 5."""
        now = int(time.time())
        starts = await self.redis.mget([call_starts_key(tenant_id, s) for s in range(now - 59, now + 1)])
        counts = [int(v) if v else 0 for v in starts]
        minute = now // 60
        fallbacks = await self.redis.mget([fallbacks_key(m) for m in range(minute - 14, minute + 1)])
        per_minute = [int(v) if v else 0 for v in fallbacks]
        return {
            "cps_10s": round(sum(counts[-10:]) / 10, 2),
            "cps_60s": round(sum(counts) / 60, 2),
            "fallbacks_per_minute": per_minute,
            "fallbacks_5m": sum(per_minute[-5:]),
        }

    async def lag(self) -> dict[str, int | None]:
        """Consumer lag per group (records), read at most every ``lag_every_s``; None for a group
        whose lag could not be read (the broker unreachable: the page says so)."""
        async with self._lag_lock:
            if time.monotonic() - self._lag_at >= self.lag_every_s:
                lags: dict[str, int | None] = {}
                for group, topic in CONSUMERS:
                    try:
                        lags[group] = await asyncio.wait_for(group_lag(self.bootstrap, group, topic), 3.0)
                    except Exception as exc:
                        log.warning("consumer lag unreadable", group=group, error=repr(exc))
                        lags[group] = None
                self._lag, self._lag_at = lags, time.monotonic()
            return dict(self._lag)

    async def snapshot(self, tenant_id: str) -> dict[str, Any]:
        """Everything the live page shows, for one tenant: ``calls`` (rows, see :func:`call_row`),
        ``live_calls`` (all of them, not just the rows), ``queues`` (queue name → callers waiting),
        the rates, ``lag`` and ``at_ms`` (when it was taken)."""
        rows, total = await self.calls(tenant_id)
        queues = Counter(r["queue"] for r in rows if r.get("queue"))
        return {
            "at_ms": int(time.time() * 1000),
            "calls": rows,
            "live_calls": total,
            "queues": dict(sorted(queues.items())),
            **await self.rates(tenant_id),
            "lag": await self.lag(),
        }
