"""Each tenant's toll-fraud policy for the flow engine's DIAL and TRANSFER guard.

The policy lives in PostgreSQL (``tenants.policy``, written by the api and the CLI). The runner
keeps each tenant's policy for ``ttl_s`` (30 s: a policy change reaches running calls within that)
and reads it again on the first turn after that. It **fails closed**: when the policy cannot be
read (database down, tenant unknown, a bad row), the guard refuses every destination, so a flow's
DIAL ends with the apology rather than placing a call nobody vetted; the last good policy is not
reused once its time is up. Reads are bounded by ``timeout_s`` so a slow database delays a turn by
at most that much (and only once per tenant per ``ttl_s``).

A tenant's own numbers are its policy's ``numbers`` plus the numbers its routes answer
(``numbers_of``): by default a flow may call the countries its tenant has numbers in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import asyncpg

from switchboard.logging import get_logger
from switchboard.tollfraud import DialGuard, Policy, guard_for, refuse_all

log = get_logger(__name__)


class PolicyCache:
    """``guard(tenant_id)`` → the :data:`~switchboard.tollfraud.DialGuard` for that tenant."""

    def __init__(
        self,
        database_url: str,
        *,
        ttl_s: float = 30.0,
        timeout_s: float = 1.0,
        numbers_of: Callable[[str], list[str]] = lambda tenant_id: [],
    ) -> None:
        self.database_url = database_url
        self.numbers_of = numbers_of
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._pool: asyncpg.Pool | None = None
        self._guards: dict[str, tuple[float, DialGuard]] = {}
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def guard(self, tenant_id: str) -> DialGuard:
        cached = self._guards.get(tenant_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self._lock:
            cached = self._guards.get(tenant_id)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            guard = await self._load(tenant_id)
            self._guards[tenant_id] = (time.monotonic() + self.ttl_s, guard)
            return guard

    async def _load(self, tenant_id: str) -> DialGuard:
        try:
            async with asyncio.timeout(self.timeout_s):
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(self.database_url, min_size=0, max_size=2)
                raw = await self._pool.fetchval("SELECT policy::text FROM tenants WHERE tenant_id = $1", tenant_id)
            if raw is None:
                reason = f"tenant {tenant_id!r} is unknown: no toll-fraud policy to check the destination against"
                log.warning("dial guard refuses every destination", tenant_id=tenant_id, reason=reason)
                return refuse_all(reason)
            policy = Policy.model_validate_json(raw)
            if routed := [n for n in self.numbers_of(tenant_id) if n not in policy.numbers]:
                policy = policy.model_copy(update={"numbers": [*policy.numbers, *routed]})
            return guard_for(tenant_id, policy)
        except Exception as exc:  # fail closed, whatever went wrong
            reason = f"the toll-fraud policy of tenant {tenant_id!r} could not be read ({type(exc).__name__})"
            log.error("dial guard refuses every destination", tenant_id=tenant_id, reason=reason, error=str(exc))
            return refuse_all(reason)
