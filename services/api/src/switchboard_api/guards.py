"""Toll-fraud and abuse guards per tenant, checked before a dial request is published (so nothing
rings and nothing reaches the dialer when one refuses).

Destination (403 ``forbidden``, ``field: "to"``: the request is well formed, the tenant's policy
does not allow it; the same status as a missing scope because both are "not allowed for you"):

- the destination's region (phonenumbers) must be in ``allowed_countries``, by default the
  regions of the tenant's own ``numbers``;
- its number type must be in ``allowed_number_types``, by default :data:`SAFE_TYPES`. Blocked by
  default: ``PREMIUM_RATE`` (the classic toll-fraud target), ``SHARED_COST`` and ``UAN`` (the
  caller pays a share above a normal rate), ``PERSONAL_NUMBER`` (UK 070: forwarded anywhere at a
  premium, a known fraud vector), ``PAGER``, ``VOICEMAIL`` and ``UNKNOWN`` (what cannot be
  classified cannot be priced). ``VOIP`` and ``TOLL_FREE`` are allowed: normal-rate or free.

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

import phonenumbers
from phonenumbers import PhoneNumberType
from redis.asyncio import Redis

from switchboard.errors import Forbidden, TooManyRequests
from switchboard.pacing import Admission, Lease
from switchboard_api.tenancy import Tenant

SAFE_TYPES = frozenset({"FIXED_LINE", "MOBILE", "FIXED_LINE_OR_MOBILE", "TOLL_FREE", "VOIP"})
TYPE_NAMES = {value: name for name, value in vars(PhoneNumberType).items() if name.isupper()}


def region_and_type(number: str) -> tuple[str | None, str]:
    """The destination's ISO region (None when unknown) and phonenumbers' type name."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None, "UNKNOWN"
    region = phonenumbers.region_code_for_number(parsed)
    return (region if region and region != "ZZ" else None), TYPE_NAMES.get(phonenumbers.number_type(parsed), "UNKNOWN")


def allowed_countries(tenant: Tenant) -> set[str]:
    policy = tenant.policy
    if policy.allowed_countries is not None:
        return {c.upper() for c in policy.allowed_countries}
    return {r for r in (region_and_type(n)[0] for n in policy.numbers) if r}


def check_destination(tenant: Tenant, to: str) -> None:
    """Raises :class:`Forbidden` (403, field ``to``) for a destination the policy refuses."""
    region, kind = region_and_type(to)
    countries = allowed_countries(tenant)
    if region is None or region not in countries:
        allowed = ", ".join(sorted(countries)) or "none (the tenant has no numbers and no allowed_countries)"
        raise Forbidden(
            f"calls to {region or 'an unknown country'} are not allowed for tenant {tenant.tenant_id!r} "
            f"(allowed: {allowed})",
            field="to",
        )
    types = set(tenant.policy.allowed_number_types or SAFE_TYPES)
    if kind not in types:
        raise Forbidden(
            f"calls to {kind} numbers are blocked for tenant {tenant.tenant_id!r} (toll-fraud guard)", field="to"
        )


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
