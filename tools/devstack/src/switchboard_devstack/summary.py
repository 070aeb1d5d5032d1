"""The demo's summary, read back from PostgreSQL's ``cdrs`` (never from the demo's own counters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg


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


async def read_summary(database_url: str, *, since_campaign: str | None = None) -> Summary:
    """Aggregate the CDRs; with ``since_campaign``, outbound figures count that campaign only."""
    conn = await asyncpg.connect(database_url)
    try:
        s = Summary()
        s.total = await conn.fetchval("SELECT count(*) FROM cdrs")
        s.by_status = dict(await conn.fetch("SELECT status, count(*) FROM cdrs GROUP BY status ORDER BY 2 DESC"))
        s.by_direction = dict(await conn.fetch("SELECT direction, count(*) FROM cdrs GROUP BY direction"))
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'completed')::float / NULLIF(count(*), 0) AS rate "
            "FROM cdrs WHERE direction = 'outbound'"
        )
        s.answer_rate_outbound = row["rate"] or 0.0
        s.mean_duration_s = float(
            await conn.fetchval("SELECT coalesce(avg(duration_s), 0) FROM cdrs WHERE status = 'completed'")
        )
        s.cost_by_currency = dict(
            await conn.fetch("SELECT currency, sum(cost) FROM cdrs WHERE currency IS NOT NULL GROUP BY currency")
        )
        s.survey_answers = dict(
            await conn.fetch(
                "SELECT inputs->>'rating' AS answer, count(*) FROM cdrs WHERE flow_id = 'survey' "
                "AND inputs ? 'rating' GROUP BY 1 ORDER BY 1"
            )
        )
        s.ivr_choices = dict(
            await conn.fetch(
                "SELECT inputs->>'menu' AS choice, count(*) FROM cdrs WHERE flow_id = 'ivr' "
                "AND inputs ? 'menu' GROUP BY 1 ORDER BY 1"
            )
        )
        s.by_tenant = [
            dict(row)
            for row in await conn.fetch(
                "SELECT tenant_id, direction, count(*) AS calls, "
                "count(*) FILTER (WHERE status = 'completed') AS answered, "
                "sum(cost) AS cost, min(currency) AS currency "
                "FROM cdrs GROUP BY tenant_id, direction ORDER BY tenant_id, direction"
            )
        ]
        return s
    finally:
        await conn.close()
