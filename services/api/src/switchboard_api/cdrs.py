"""Reading CDRs: one call with its step trail, lists with filters and keyset pagination,
streaming CSV and NDJSON exports, and reports (summary, per-step funnel).

Every route needs the ``cdrs:read`` scope and reads only the key's tenant's rows: another
tenant's call is 404, as one that does not exist. Times are UTC; ``since``/``until`` filter on
``call_start`` (the call's answer time, else its end: the partition column, so a time range reads
only the months it spans). Durations in seconds, minutes as decimals, money per currency.

Pagination (``GET /v1/calls``): newest first by ``(call_start, call_key)``; the answer's
``next_cursor`` (opaque) is passed back as ``cursor`` for the next page; null on the last page. A
keyset, not an offset: a page costs the same however deep, and rows landing meanwhile neither
repeat nor skip rows of later pages.

Exports (``GET /v1/calls.csv``, ``GET /v1/calls.ndjson``) take the same filters, no limit, and
stream from a server-side cursor (``SB_EXPORT_FETCH_ROWS`` rows per fetch, 1,000): the API never
holds more than one fetch of the result in memory.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.errors import InvalidEvent, NotFound
from switchboard.events import NO_NUL
from switchboard.problems import responses
from switchboard_api.auth import Auth
from switchboard_api.tenancy import Principal

FETCH_ROWS = 1000
EXPORT_COLUMNS = (
    "call_id", "call_key", "tenant_id", "provider", "account", "direction", "caller_number",
    "destination_number", "status", "hangup_cause", "hangup_cause_raw", "call_start", "started_at",
    "ended_at", "duration_s", "cost", "currency", "flow_id", "flow_version", "campaign_id", "attempt",
    "inputs", "recordings", "session_data", "flow_error", "provider_status", "raw_invalid",
)  # fmt: skip
"""The columns of a listed or exported CDR (``docs/cdrs.md``); ``GET /v1/calls/{call_id}`` adds
``trail``, ``created_at`` and ``updated_at``."""
LIST_SQL = ", ".join(EXPORT_COLUMNS)
JSON_COLUMNS = {"inputs", "recordings", "session_data", "raw_invalid", "trail"}


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_UTC_Z)


class Filters:
    """The filters every list, export and report takes (query parameters)."""

    def __init__(
        self,
        since: datetime | None = Query(None, description="call_start ≥ since (ISO 8601)"),
        until: datetime | None = Query(None, description="call_start < until (ISO 8601)"),
        status: str | None = Query(None, max_length=16, pattern=NO_NUL, description="completed, busy …"),
        direction: Literal["inbound", "outbound"] | None = Query(None),
        campaign: str | None = Query(None, max_length=128, pattern=NO_NUL, description="campaign_id"),
        flow: str | None = Query(None, max_length=2048, pattern=NO_NUL, description="flow_id (name or URL)"),
        version: str | None = Query(None, max_length=64, pattern=NO_NUL, description="flow_version"),
        provider: str | None = Query(None, max_length=32, pattern=NO_NUL),
        number: str | None = Query(None, max_length=64, pattern=NO_NUL, description="caller or destination number"),
    ) -> None:
        self.values = {
            "since": since, "until": until, "status": status, "direction": direction, "campaign": campaign,
            "flow": flow, "version": version, "provider": provider, "number": number,
        }  # fmt: skip

    def where(self, tenant_id: str) -> tuple[str, dict[str, Any]]:
        """The SQL condition and its bound parameters (always the tenant's rows only)."""
        v = self.values
        parts = ["tenant_id = :tenant"]
        params: dict[str, Any] = {"tenant": tenant_id}
        simple = {
            "status": "status", "direction": "direction", "campaign": "campaign_id", "flow": "flow_id",
            "version": "flow_version", "provider": "provider",
        }  # fmt: skip
        for name, column in simple.items():
            if v[name] is not None:
                parts.append(f"{column} = :{name}")
                params[name] = v[name]
        if v["since"] is not None:
            parts.append("call_start >= :since")
            params["since"] = v["since"]
        if v["until"] is not None:
            parts.append("call_start < :until")
            params["until"] = v["until"]
        if v["number"] is not None:
            parts.append("(caller_number = :number OR destination_number = :number)")
            params["number"] = v["number"]
        return " AND ".join(parts), params


def encode_cursor(call_start: datetime, call_key: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([call_start.isoformat(), call_key])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        start, key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if "\x00" in key:
            raise ValueError("NUL in the cursor")
        return datetime.fromisoformat(start), str(key)
    except Exception as exc:
        raise InvalidEvent("not a cursor this API gave out", field="cursor") from exc


def row_json(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def csv_cell(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if column in JSON_COLUMNS:
        return dumps(value).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def build_router(engine: AsyncEngine, auth: Auth) -> APIRouter:
    router = APIRouter()
    reader = auth.require("cdrs:read")

    @router.get(
        "/v1/calls/{call_id}",
        tags=["cdrs"],
        summary="One call's CDR and its step trail (cdrs:read)",
        responses=responses(400, 401, 403, 404, 429),
    )
    async def get_call(
        call_id: str = Path(max_length=200, pattern=NO_NUL), principal: Principal = Depends(reader)
    ) -> Response:
        """The CDR of ``call_id`` (Switchboard's call id, or the ``call_key``) with ``trail``: each
        callback received, each action run and each reply sent, with times (``switchboard.trail``).
        404 when the call has no CDR yet or is another tenant's."""
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        f"SELECT {LIST_SQL}, trail, created_at, updated_at FROM cdrs "
                        "WHERE tenant_id = :tenant AND (call_id = :id OR call_key = :id) LIMIT 1"
                    ),
                    {"tenant": principal.tenant.tenant_id, "id": call_id},
                )
            ).first()
        if row is None:
            raise NotFound(f"no CDR for call {call_id!r}", field="call_id")
        return Response(dumps(row_json(row)), media_type="application/json")

    @router.get(
        "/v1/calls",
        tags=["cdrs"],
        summary="CDRs with filters, newest first, keyset pagination (cdrs:read)",
        responses=responses(400, 401, 403, 429),
    )
    async def list_calls(
        filters: Filters = Depends(),
        limit: int = Query(100, ge=1, le=1000),
        cursor: str | None = Query(None, max_length=2048, pattern=NO_NUL, description="the last next_cursor"),
        principal: Principal = Depends(reader),
    ) -> Response:
        where, params = filters.where(principal.tenant.tenant_id)
        if cursor:
            params["c_start"], params["c_key"] = decode_cursor(cursor)
            where += " AND (call_start, call_key) < (:c_start, :c_key)"
        params["limit"] = limit + 1
        sql = f"SELECT {LIST_SQL} FROM cdrs WHERE {where} ORDER BY call_start DESC, call_key DESC LIMIT :limit"
        async with engine.connect() as conn:
            rows = [row_json(r) for r in await conn.execute(text(sql), params)]
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["call_start"], rows[-1]["call_key"]) if more else None
        return Response(dumps({"calls": rows, "next_cursor": next_cursor}), media_type="application/json")

    async def stream_rows(where: str, params: dict[str, Any]) -> AsyncIterator[Any]:
        sql = f"SELECT {LIST_SQL} FROM cdrs WHERE {where} ORDER BY call_start DESC, call_key DESC"
        async with engine.connect() as conn:
            result = await conn.stream(text(sql).execution_options(yield_per=FETCH_ROWS), params)
            async for partition in result.partitions(FETCH_ROWS):
                yield partition

    @router.get(
        "/v1/calls.csv",
        tags=["cdrs"],
        summary="Export CDRs as CSV, streamed (cdrs:read)",
        responses=responses(400, 401, 403, 429),
        response_class=StreamingResponse,
    )
    async def export_csv(filters: Filters = Depends(), principal: Principal = Depends(reader)) -> StreamingResponse:
        """One header line, then one line per CDR (JSON columns as JSON text), newest first."""
        where, params = filters.where(principal.tenant.tenant_id)

        async def body() -> AsyncIterator[bytes]:
            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerow(EXPORT_COLUMNS)
            yield buf.getvalue().encode()
            async for rows in stream_rows(where, params):
                buf.seek(0)
                buf.truncate()
                writer.writerows([csv_cell(c, v) for c, v in zip(EXPORT_COLUMNS, row, strict=True)] for row in rows)
                yield buf.getvalue().encode()

        return StreamingResponse(
            body(), media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="calls.csv"'}
        )

    @router.get(
        "/v1/calls.ndjson",
        tags=["cdrs"],
        summary="Export CDRs as NDJSON, streamed (cdrs:read)",
        responses=responses(400, 401, 403, 429),
        response_class=StreamingResponse,
    )
    async def export_ndjson(filters: Filters = Depends(), principal: Principal = Depends(reader)) -> StreamingResponse:
        """One JSON object per line per CDR, newest first."""
        where, params = filters.where(principal.tenant.tenant_id)

        async def body() -> AsyncIterator[bytes]:
            async for rows in stream_rows(where, params):
                yield b"".join(dumps(dict(r._mapping)) + b"\n" for r in rows)

        return StreamingResponse(body(), media_type="application/x-ndjson")

    return router
