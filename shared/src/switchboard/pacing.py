"""Pacing and live-call caps shared by every dialer replica (and the api), in Redis.

One Lua script, :data:`ADMIT`, decides whether a call may be placed, atomically, on Redis's own
clock (``TIME``), so any number of replicas share one limiter per scope:

- **Leases** (concurrency caps): per scope a sorted set ``sb:lease:<scope>:<id>`` of the call ids
  holding a live-call slot, scored by the lease's expiry (ms since the epoch). The script first
  drops expired members (a replica that died, an end that never came), then takes a slot in every
  scope or in none: a scope whose set already holds ``cap`` other calls refuses the whole request.
  A call already in a set keeps its slot (taking again is idempotent: a redelivered request, or a
  call the api reserved before the dialer takes its other leases). ``sb:lease:call:<call id>``
  records which sets hold the call, so :data:`RELEASE` frees them all when the call ends, and
  :data:`BOUND` shortens them all (a call whose placement a dying replica interrupted) unless the
  call is linked, and :data:`CONFIRM` gives them a full lease again once it is.
- **Pacing** (GCRA, virtual-scheduling form, burst 1): per scope ``sb:pace:<scope>:<id>`` holds the
  theoretical arrival time (TAT, µs). A call is granted the time ``at = max(now, TAT of each
  scope)`` and every scope's TAT becomes ``at + 1/cps``. Calls are therefore spaced by at least
  ``1/cps`` in every scope, whichever replica places them; there is no burst (a quiet second is not
  saved up). The grant is a reservation: the caller sleeps until ``at`` and then places the call.
  A grant further ahead than ``max_ahead`` is refused (nothing taken) so a waiting request never
  holds leases long before it can ring.

Guarantees: spacing ≥ 1/cps between granted times in each scope; at most ``cap`` unexpired
leases per scope; a lease not released lives at most ``lease_ms`` (so a dead replica's capacity
comes back within that time); a pace reservation whose caller dies costs at most one interval.
The scripts touch keys they do not declare (the ``sb:lease:*`` sets named in a call's record) and
keys of several scopes: a single Redis (or one cluster slot), as the rest of Switchboard uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from switchboard.redis import call_id_key, lease_call_key, lease_key, pace_key

ADMIT = """
-- KEYS: [1] call record, [2 .. 1+nl] lease sets, [2+nl .. 1+nl+np] pace keys
-- ARGV: call id, lease ms, max ahead µs, nl, cap x nl (negative: no cap), np, interval µs x np
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now / 1000)
local call_id = ARGV[1]
local lease_ms = tonumber(ARGV[2])
local max_ahead = tonumber(ARGV[3])
local nl = tonumber(ARGV[4])
local np = tonumber(ARGV[5 + nl])
for i = 1, nl do
  local key = KEYS[1 + i]
  local cap = tonumber(ARGV[4 + i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now_ms)
  if cap >= 0 and not redis.call('ZSCORE', key, call_id) and redis.call('ZCARD', key) >= cap then
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local free_in = 0
    if first[2] then free_in = tonumber(first[2]) - now_ms end
    return {0, i, free_in * 1000, now}
  end
end
local at = now
for j = 1, np do
  local tat = tonumber(redis.call('GET', KEYS[1 + nl + j]) or '0')
  if tat > at then at = tat end
end
if at - now > max_ahead then
  return {0, 0, at - now - max_ahead, now}
end
for j = 1, np do
  local next_at = at + tonumber(ARGV[5 + nl + j])
  redis.call('SET', KEYS[1 + nl + j], string.format('%.0f', next_at), 'PX', math.floor((next_at - now) / 1000) + 1000)
end
if nl > 0 then
  for i = 1, nl do
    redis.call('ZADD', KEYS[1 + i], now_ms + lease_ms, call_id)
    redis.call('PEXPIRE', KEYS[1 + i], lease_ms)
    redis.call('SADD', KEYS[1], KEYS[1 + i])
  end
  redis.call('PEXPIRE', KEYS[1], lease_ms)
end
return {1, 0, at - now, at}
"""

RELEASE = """
-- KEYS: [1] call record; ARGV: call id. Frees every lease the record names; returns how many.
local keys = redis.call('SMEMBERS', KEYS[1])
local freed = 0
for _, key in ipairs(keys) do
  freed = freed + redis.call('ZREM', key, ARGV[1])
end
redis.call('DEL', KEYS[1])
return freed
"""

BOUND = """
-- KEYS: [1] call record, [2] the call id's link to its call key; ARGV: call id, ms.
-- Unless the call is linked, every lease the record names that would live longer than ARGV[2] ms
-- from now (Redis's clock) now ends then; returns how many were shortened.
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local t = redis.call('TIME')
local until_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
local shortened = 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local score = redis.call('ZSCORE', key, ARGV[1])
  if score and tonumber(score) > until_ms then
    redis.call('ZADD', key, 'XX', until_ms, ARGV[1])
    shortened = shortened + 1
  end
end
return shortened
"""

CONFIRM = """
-- KEYS: [1] call record; ARGV: call id, lease ms. Every lease the record names (and the record)
-- lives a full lease from now: a call confirmed placed undoes a BOUND that raced with it.
local t = redis.call('TIME')
local until_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
local keys = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(keys) do
  redis.call('ZADD', key, 'XX', until_ms, ARGV[1])
end
if #keys > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return #keys
"""


@dataclass(frozen=True)
class Lease:
    """A live-call lease of one scope: ``scope`` (``account``, ``campaign``, ``tenant``), ``id``
    and ``cap`` (most calls holding it at once; None: counted, not capped)."""

    scope: str
    id: str
    cap: int | None = None


@dataclass(frozen=True)
class Pace:
    """A pacing scope: ``scope``, ``id`` and ``cps`` (calls per second, > 0)."""

    scope: str
    id: str
    cps: float


@dataclass(frozen=True)
class Grant:
    """The script's answer. ``granted``: every lease taken and a pace slot reserved; then ``wait_s``
    is how long to sleep before placing (until ``at_us``, Redis time in µs). Refused: ``wait_s`` is
    a hint for the next try and ``full`` the lease scope that is full (None: the pace slot is too
    far ahead)."""

    granted: bool
    wait_s: float
    at_us: int
    full: Lease | None = None


class Admission:
    """Runs :data:`ADMIT` and :data:`RELEASE` (see the module docstring).

    ``lease_s``: how long a lease lives without being released (longer than the longest call
    plus the time its end takes to arrive); ``max_ahead_s``: the furthest a pace slot is reserved."""

    def __init__(self, redis: Redis, *, lease_s: float, max_ahead_s: float = 2.0) -> None:
        self.redis = redis
        self.lease_ms = int(lease_s * 1000)
        self.max_ahead_us = int(max_ahead_s * 1_000_000)
        self._admit = redis.register_script(ADMIT)
        self._release = redis.register_script(RELEASE)
        self._bound = redis.register_script(BOUND)
        self._confirm = redis.register_script(CONFIRM)

    async def admit(self, call_id: str, leases: list[Lease], paces: list[Pace] | None = None) -> Grant:
        """Take every lease in ``leases`` and a slot in every scope of ``paces``, or nothing.
        Raises redis-py's errors (connection, timeout) as they come."""
        paces = paces or []
        keys = [lease_call_key(call_id), *(lease_key(x.scope, x.id) for x in leases)]
        keys += [pace_key(p.scope, p.id) for p in paces]
        args: list[str | int | float] = [call_id, self.lease_ms, self.max_ahead_us, len(leases)]
        args += [-1 if x.cap is None else x.cap for x in leases]
        args += [len(paces), *(round(1_000_000 / p.cps) for p in paces)]
        ok, full, wait_us, at_us = await self._admit(keys=keys, args=args)
        return Grant(
            granted=bool(ok),
            wait_s=max(0, int(wait_us)) / 1_000_000,
            at_us=int(at_us),
            full=leases[int(full) - 1] if int(full) > 0 else None,
        )

    async def release(self, call_id: str) -> int:
        """Free every lease ``call_id`` holds (idempotent); returns how many sets held it."""
        return int(await self._release(keys=[lease_call_key(call_id)], args=[call_id]))

    async def bound(self, call_id: str, within_s: float) -> int:
        """Unless ``call_id`` is linked to a call key (``sb:callid:<id>``, checked in the same
        script), end every lease it holds at most ``within_s`` seconds from now (Redis's clock); a
        lease ending sooner keeps its end. Returns how many leases were shortened. For a call whose
        placement was interrupted: it may never ring, or ring and be hung up, but it cannot keep its
        slots for a whole ``lease_s``. Raises redis-py's errors as they come."""
        keys = [lease_call_key(call_id), call_id_key(call_id)]
        return int(await self._bound(keys=keys, args=[call_id, int(within_s * 1000)]))

    async def confirm(self, call_id: str) -> int:
        """Give every lease ``call_id`` holds a full ``lease_s`` from now: called once the call is
        linked, so a :meth:`bound` that ran between the check and the link (another replica took
        the request over while this one was still placing it) is undone. Returns how many leases
        the call holds. Raises redis-py's errors as they come."""
        return int(await self._confirm(keys=[lease_call_key(call_id)], args=[call_id, self.lease_ms]))

    async def live(self, scope: str, scope_id: str) -> int:
        """Unexpired leases of one scope now (Redis's clock)."""
        seconds, micros = await self.redis.time()
        now_ms = seconds * 1000 + micros // 1000
        return int(await self.redis.zcount(lease_key(scope, scope_id), f"({now_ms}", "+inf"))
