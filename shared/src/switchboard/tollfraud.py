"""Toll-fraud guards: which destinations a tenant may call. One home for the policy and its checks,
used by the api before a dial request is published (:mod:`switchboard_api.guards`) and by the
flow-runner before a flow's DIAL or TRANSFER reaches the provider (``EngineSettings.dial_guard``).

A destination is refused when

- its region (phonenumbers' ``region_code_for_number``) is not in ``allowed_countries``, by
  default the regions of the tenant's own ``numbers``;
- its number type is not in ``allowed_number_types``, by default :data:`SAFE_TYPES`. Blocked by
  default: ``PREMIUM_RATE`` (the classic toll-fraud target), ``SHARED_COST`` and ``UAN`` (the
  caller pays a share above a normal rate), ``PERSONAL_NUMBER`` (UK 070: forwarded anywhere at a
  premium), ``PAGER``, ``VOICEMAIL`` and ``UNKNOWN`` (what cannot be classified cannot be priced).
  ``VOIP`` and ``TOLL_FREE`` are allowed: normal-rate or free.

The policy is the ``tenants.policy`` column (jsonb) in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
from phonenumbers import PhoneNumberType
from pydantic import BaseModel, Field

SAFE_TYPES = frozenset({"FIXED_LINE", "MOBILE", "FIXED_LINE_OR_MOBILE", "TOLL_FREE", "VOIP"})
TYPE_NAMES = {value: name for name, value in vars(PhoneNumberType).items() if name.isupper()}

DialGuard = Callable[[str], "str | None"]
"""A destination check for the flow engine: the reason ``number`` is refused, or None."""


class Policy(BaseModel):
    """A tenant's toll-fraud and abuse policy (the ``tenants.policy`` column).

    ``numbers``: the tenant's own numbers (E.164). ``allowed_countries``: ISO 3166 regions calls
    may go to; ``None`` = the regions of ``numbers``. ``allowed_number_types``: phonenumbers'
    ``PhoneNumberType`` names calls may go to; ``None`` = :data:`SAFE_TYPES`.
    ``accounts``: provider accounts the tenant may use, ``"<provider>:<account>"`` (``*`` for
    any). ``cps``: calls per second through the API; ``max_live_calls``: calls ringing or in
    progress at once; ``daily_calls``: calls per UTC day; ``requests_per_minute``: API requests per
    key per minute (any route)."""

    numbers: list[str] = Field(default_factory=list)
    allowed_countries: list[str] | None = None
    allowed_number_types: list[str] | None = None
    accounts: list[str] = Field(default_factory=list)
    cps: float = Field(default=10.0, gt=0)
    max_live_calls: int = Field(default=100, ge=1)
    daily_calls: int = Field(default=10_000, ge=1)
    requests_per_minute: int = Field(default=600, ge=1)

    def may_use(self, provider: str, account: str) -> bool:
        return any(
            p in ("*", provider) and a in ("*", account)
            for p, _, a in (entry.partition(":") for entry in self.accounts)
        )

    def allowed_regions(self) -> set[str]:
        """The ISO regions calls may go to (``allowed_countries``, else the regions of ``numbers``)."""
        if self.allowed_countries is not None:
            return {c.upper() for c in self.allowed_countries}
        return {r for r in (region_and_type(n)[0] for n in self.numbers) if r}


def region_and_type(number: str) -> tuple[str | None, str]:
    """The destination's ISO region (None when unknown) and phonenumbers' type name."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None, "UNKNOWN"
    region = phonenumbers.region_code_for_number(parsed)
    return (region if region and region != "ZZ" else None), TYPE_NAMES.get(phonenumbers.number_type(parsed), "UNKNOWN")


def destination_refusal(tenant_id: str, policy: Policy, to: str) -> str | None:
    """Why ``policy`` refuses a call to ``to`` (a sentence naming the tenant), or None if allowed."""
    region, kind = region_and_type(to)
    countries = policy.allowed_regions()
    if region is None or region not in countries:
        allowed = ", ".join(sorted(countries)) or "none (the tenant has no numbers and no allowed_countries)"
        return (
            f"calls to {region or 'an unknown country'} are not allowed for tenant {tenant_id!r} (allowed: {allowed})"
        )
    if kind not in set(policy.allowed_number_types or SAFE_TYPES):
        return f"calls to {kind} numbers are blocked for tenant {tenant_id!r} (toll-fraud guard)"
    return None


def guard_for(tenant_id: str, policy: Policy) -> DialGuard:
    """A :data:`DialGuard` for the flow engine from a tenant's policy."""
    return lambda number: destination_refusal(tenant_id, policy, number)


def refuse_all(reason: str) -> DialGuard:
    """A :data:`DialGuard` that refuses every destination (the policy could not be read: fail closed)."""
    return lambda number: reason
