"""Toll-fraud and abuse guards per tenant, checked before a dial request is published (so nothing
rings and nothing reaches the dialer when one refuses).

Destination (403 ``forbidden``, ``field: "to"``: the request is well formed, the tenant's policy
does not allow it; the same status as a missing scope because both are "not allowed for you"):
the checks of :mod:`switchboard.tollfraud`, which the flow-runner applies to a flow's own DIAL
and TRANSFER too.

Caps (429 ``too-many-requests`` with ``Retry-After``, counted in Redis so every api replica shares
them): ``cps`` calls per second (a one-second window), ``daily_calls`` per UTC day (Retry-After:
until midnight UTC), ``max_live_calls`` at once: the tenant's live-call lease set ``sb:lease:tenant:<id>``
(:mod:`switchboard.pacing`), the same set the dialer takes before placing a call and releases
when the call's ``SessionEnded`` is consumed or the provider refuses it (one count of live calls
for ad-hoc and campaign calls alike). The api takes the call's tenant lease here, so concurrent
requests over the cap are refused at once; the dialer keeps that lease (same call id) and adds
the account's and campaign's.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from switchboard.errors import Forbidden, TooManyRequests
from switchboard.pacing import Admission, Lease
from switchboard.tollfraud import SAFE_TYPES, destination_refusal, region_and_type
from switchboard_api.tenancy import Tenant

__all__ = ["SAFE_TYPES", "Caps", "check_destination", "region_and_type"]


def check_destination(tenant: Tenant, to: str) -> None:
    """Raises :class:`Forbidden` (403, field ``to``) for a destination the policy refuses
    (:func:`switchboard.tollfraud.destination_refusal`)."""
    if reason := destination_refusal(tenant.tenant_id, tenant.policy, to):
        raise Forbidden(reason, field="to")


class Caps:
    """The per-tenant call caps. :meth:`take` reserves a call; :meth:`release` gives its live slot
    back (the request was not published after all)."""

    def __init__(self, redis: Redis, *, call_lease_s: float) -> None:
        self.redis = redis
        self.admission = Admission(redis, lease_s=call_lease_s)

    async def take(self, tenant: Tenant, call_id: str) -> None:
        """Raises :class:`TooManyRequests` (429 + Retry-After) when a cap is reached; otherwise
        the call counts against all three."""
        policy = tenant.policy
        now = time.time()
        t = tenant.tenant_id
        second = f"sb:tenant:{t}:cps:{int(now)}"
        day = datetime.now(UTC)
        daily = f"sb:tenant:{t}:day:{day:%Y%m%d}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(second)
            pipe.expire(second, 2)
            pipe.incr(daily)
            pipe.expire(daily, 2 * 24 * 3600)
            in_second, _, in_day, _ = await pipe.execute()
        reason: tuple[str, int] | None = None
        if int(in_second) > policy.cps:
            reason = (f"over {policy.cps:g} calls per second for tenant {t!r}", 1)
        elif int(in_day) > policy.daily_calls:
            midnight = (day + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            reason = (f"over {policy.daily_calls} calls today (UTC) for tenant {t!r}", int((midnight - day).seconds))
        elif not (await self.admission.admit(call_id, [Lease("tenant", t, policy.max_live_calls)])).granted:
            reason = (f"over {policy.max_live_calls} live calls for tenant {t!r}", 5)
        if reason is not None:
            await self.redis.decr(daily)
            raise TooManyRequests(reason[0], retry_after_s=reason[1])

    async def release(self, call_id: str) -> None:
        """Give back the live-call lease :meth:`take` took (the request was not published)."""
        await self.admission.release(call_id)
