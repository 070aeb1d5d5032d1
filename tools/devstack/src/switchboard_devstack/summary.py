"""The demo's summary, read back through the reports API (``GET /v1/reports/summary`` and
``GET /v1/reports/funnel``, scope ``cdrs:read``) with each demo tenant's key: the figures a
customer's own tooling would see, never the demo's own counters. The demo's tenants are ``local``
(the outbound campaign, ``.stack/api-key.json``) and ``default`` (the inbound IVR calls,
``.stack/api-key-default.json``); figures across tenants are the sums of each tenant's."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson


@dataclass
class Summary:
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_direction: dict[str, int] = field(default_factory=dict)
    answer_rate_outbound: float = 0.0
    mean_duration_s: float = 0.0
    cost_by_currency: dict[str, Decimal] = field(default_factory=dict)
    survey_answers: dict[str, int] = field(default_factory=dict)
    ivr_choices: dict[str, int] = field(default_factory=dict)
    by_tenant: list[dict[str, Any]] = field(default_factory=list)


def demo_keys(root: Path) -> dict[str, str]:
    """Tenant id → API key, for the demo's key files that exist under the stack's ``root``."""
    keys = {}
    for name in ("api-key.json", "api-key-default.json"):
        path = root / name
        if path.exists():
            body = orjson.loads(path.read_bytes())
            keys[str(body["tenant_id"])] = str(body["key"])
    return keys


SURVEY_FLOWS = ("survey", "survey-message")
"""The demo's survey: the live-call flow, or its one-message form on Infobip."""


async def read_summary(api_url: str, keys: dict[str, str]) -> Summary:
    """Aggregate each tenant's reports into the demo's summary."""
    s = Summary()
    status: Counter[str] = Counter()
    direction: Counter[str] = Counter()
    survey: Counter[str] = Counter()
    ivr: Counter[str] = Counter()
    answered_total = 0
    duration_total = 0.0
    outbound_calls = outbound_answered = 0
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        for tenant, key in keys.items():
            headers = {"Authorization": f"Bearer {key}"}

            async def report(path: str, headers: dict[str, str] = headers, **params: str) -> Any:
                r = await client.get(path, params=params, headers=headers)
                r.raise_for_status()
                return r.json()

            for g in (await report("/v1/reports/summary", group_by="status"))["groups"]:
                status[g["group"]] += g["calls"]
            for g in (await report("/v1/reports/summary", group_by="direction"))["groups"]:
                direction[g["group"]] += g["calls"]
                answered_total += g["answered"]
                duration_total += g["acd_s"] * g["answered"]
                costs = {c: Decimal(v) for c, v in g["cost"].items()}
                for currency, amount in costs.items():
                    s.cost_by_currency[currency] = s.cost_by_currency.get(currency, Decimal(0)) + amount
                if g["group"] == "outbound":
                    outbound_calls += g["calls"]
                    outbound_answered += g["answered"]
                cost = next(iter(costs.values()), None)
                currency = next(iter(costs), None)
                s.by_tenant.append(
                    {
                        "tenant_id": tenant,
                        "direction": g["group"],
                        "calls": g["calls"],
                        "answered": g["answered"],
                        "cost": cost,
                        "currency": currency,
                    }
                )
            for flow in SURVEY_FLOWS:
                survey.update((await report("/v1/reports/funnel", flow=flow))["collects"].get("rating", {}))
            ivr.update((await report("/v1/reports/funnel", flow="ivr"))["collects"].get("menu", {}))
    s.total = sum(status.values())
    s.by_status = dict(status.most_common())
    s.by_direction = dict(direction)
    s.answer_rate_outbound = outbound_answered / outbound_calls if outbound_calls else 0.0
    s.mean_duration_s = duration_total / answered_total if answered_total else 0.0
    s.survey_answers = dict(sorted(survey.items()))
    s.ivr_choices = dict(sorted(ivr.items()))
    s.by_tenant.sort(key=lambda r: (r["tenant_id"], r["direction"]))
    return s
