"""Reports over the tenant's CDRs (``cdrs:read``; filters as ``GET /v1/calls``).

``GET /v1/reports/summary?group_by=hour|day|campaign|flow|provider|hangup_cause|status|direction``:
per group
(newest hour/day first, else most calls first) —

- ``calls``: CDRs; ``answered``: status ``completed`` (the call was answered);
- ``asr``: answer-seizure ratio, answered ÷ calls (0–1);
- ``acd_s``: average call duration of the answered calls, seconds;
- ``total_minutes``: sum of ``duration_s`` ÷ 60; ``billable_minutes``: each answered call rounded
  up to the whole minute (the per-minute billing most providers use), summed;
- ``cost``: ``{currency: total}`` as decimal strings, as the providers reported it.

``GET /v1/reports/funnel?flow=&version=``: for one flow (and version, if given), from the step
trail (``cdrs.trail``) —

- ``calls``: CDRs of the flow;
- ``actions``: per action (JSON pointer and type), how many calls reached it, in flow order;
- ``hangups``: per last action reached, how many calls ended there, by hangup cause and status
  (where callers dropped);
- ``collects``: per COLLECT name (``inputs``), the distribution of the answers.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.problems import responses
from switchboard_api.auth import Auth
from switchboard_api.cdrs import Filters, dumps
from switchboard_api.tenancy import Principal

GROUPS = {
    "hour": "date_trunc('hour', call_start AT TIME ZONE 'UTC')",
    "day": "date_trunc('day', call_start AT TIME ZONE 'UTC')",
    "campaign": "campaign_id",
    "flow": "flow_id",
    "provider": "provider",
    "hangup_cause": "hangup_cause",
    "status": "status",
    "direction": "direction",
}
GroupBy = Literal["hour", "day", "campaign", "flow", "provider", "hangup_cause", "status", "direction"]


def build_router(engine: AsyncEngine, auth: Auth) -> APIRouter:
    router = APIRouter()
    reader = auth.require("cdrs:read")

    @router.get(
        "/v1/reports/summary",
        tags=["reports"],
        summary="Calls, answered, ASR, ACD, minutes and cost per group (cdrs:read)",
        responses=responses(400, 401, 403, 429),
    )
    async def summary(
        group_by: GroupBy = Query(..., description="hour, day, campaign, flow, provider or hangup_cause"),
        filters: Filters = Depends(),
        principal: Principal = Depends(reader),
    ) -> Response:
        where, params = filters.where(principal.tenant.tenant_id)
        key = GROUPS[group_by]
        order = "grp DESC NULLS LAST" if group_by in ("hour", "day") else "calls DESC, grp NULLS LAST"
        sql = f"""
            SELECT {key} AS grp, count(*) AS calls,
                   count(*) FILTER (WHERE status = 'completed') AS answered,
                   coalesce(avg(duration_s) FILTER (WHERE status = 'completed'), 0) AS acd_s,
                   coalesce(sum(duration_s), 0) / 60.0 AS total_minutes,
                   coalesce(sum(ceil(duration_s / 60.0)) FILTER (WHERE status = 'completed'), 0) AS billable_minutes
            FROM cdrs WHERE {where} GROUP BY grp ORDER BY {order} LIMIT 10000"""
        cost_sql = f"""
            SELECT {key} AS grp, currency, sum(cost) AS total FROM cdrs
            WHERE {where} AND currency IS NOT NULL AND cost IS NOT NULL GROUP BY grp, currency"""
        async with engine.connect() as conn:
            rows = (await conn.execute(text(sql), params)).all()
            costs: dict[Any, dict[str, str]] = {}
            for grp, currency, total in await conn.execute(text(cost_sql), params):
                costs.setdefault(grp, {})[currency] = str(total)
        groups = [
            {
                "group": r.grp.isoformat() + "Z" if hasattr(r.grp, "isoformat") else r.grp,
                "calls": r.calls,
                "answered": r.answered,
                "asr": round(r.answered / r.calls, 4) if r.calls else 0.0,
                "acd_s": round(float(r.acd_s), 1),
                "total_minutes": round(float(r.total_minutes), 2),
                "billable_minutes": int(r.billable_minutes),
                "cost": costs.get(r.grp, {}),
            }
            for r in rows
        ]
        return Response(dumps({"group_by": group_by, "groups": groups}), media_type="application/json")

    @router.get(
        "/v1/reports/funnel",
        tags=["reports"],
        summary="Per-step funnel of a flow version from the calls' step trails (cdrs:read)",
        responses=responses(400, 401, 403, 429),
    )
    async def funnel(filters: Filters = Depends(), principal: Principal = Depends(reader)) -> Response:
        """``flow`` is required (``version`` optional); the other filters apply too."""
        if filters.values["flow"] is None:
            from switchboard.errors import InvalidEvent

            raise InvalidEvent("flow is required for a funnel", field="flow")
        where, params = filters.where(principal.tenant.tenant_id)
        actions_sql = f"""
            SELECT e->>'p' AS pointer, e->>'a' AS action, count(DISTINCT c.call_key) AS calls
            FROM cdrs c CROSS JOIN LATERAL jsonb_array_elements(c.trail) e
            WHERE {where} AND e->>'k' = 'act' GROUP BY 1, 2"""
        hangups_sql = f"""
            SELECT (SELECT e->>'p' FROM jsonb_array_elements(c.trail) WITH ORDINALITY x(e, i)
                    WHERE e->>'k' = 'act' ORDER BY i DESC LIMIT 1) AS last_action,
                   hangup_cause, status, count(*) AS calls
            FROM cdrs c WHERE {where} GROUP BY 1, 2, 3 ORDER BY calls DESC"""
        collects_sql = f"""
            SELECT kv.key AS name, kv.value AS answer, count(*) AS calls
            FROM cdrs c CROSS JOIN LATERAL jsonb_each_text(c.inputs) kv
            WHERE {where} GROUP BY 1, 2 ORDER BY 1, 3 DESC"""
        async with engine.connect() as conn:
            total = (await conn.execute(text(f"SELECT count(*) FROM cdrs c WHERE {where}"), params)).scalar_one()
            actions = [dict(r._mapping) for r in await conn.execute(text(actions_sql), params)]
            hangups = [dict(r._mapping) for r in await conn.execute(text(hangups_sql), params)]
            collects: dict[str, dict[str, int]] = {}
            for name, answer, calls in await conn.execute(text(collects_sql), params):
                collects.setdefault(name, {})[answer] = calls

        def flow_order(pointer: str) -> list[Any]:
            return [int(p) if p.isdigit() else p for p in pointer.split("/")[2:]]

        actions.sort(key=lambda a: [str(x).zfill(6) for x in flow_order(a["pointer"] or "")])
        body = {
            "flow": filters.values["flow"],
            "version": filters.values["version"],
            "calls": total,
            "actions": actions,
            "hangups": hangups,
            "collects": collects,
        }
        return Response(dumps(body), media_type="application/json")

    return router
