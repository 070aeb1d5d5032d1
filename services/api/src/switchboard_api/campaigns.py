"""Campaigns and do-not-call lists on the control plane (``campaigns:write`` / ``campaigns:read``).

A campaign belongs to the key's tenant: every route answers 404 for a campaign of another tenant,
the same answer as for one that does not exist. Routes:

- ``POST /v1/campaigns``: create (``draft``); 404 for a provider account the tenant does not
  have, 422 for an unknown flow or one the provider cannot carry out.
- ``POST /v1/campaigns/{id}/contacts``: upload contacts, CSV (``text/csv``: a ``phone`` column,
  every other column is the contact's session data) streamed into PostgreSQL by COPY batches, or
  a JSON list (``application/json``). Bad rows are reported with their line (CSV) or item (JSON)
  number and the reason; good rows are kept. Body limit: ``SB_CAMPAIGN_UPLOAD_MAX_BYTES``.
- ``POST /v1/campaigns/{id}/start|pause|resume|cancel``: 409 when the state does not allow it.
- ``GET /v1/campaigns/{id}``, ``…/progress``, ``…/contacts``, ``…/contacts/{contact_id}/attempts``.
- ``POST /v1/dnc`` (numbers to the tenant's own list), ``PUT /v1/dnc/lists/{name}`` (replace an
  imported list from a CSV, ``as_of`` = the date its source was taken), ``GET /v1/dnc/lists``.
"""

from __future__ import annotations

import time as time_module
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from switchboard.accounts import ProviderClients
from switchboard.campaigns.contacts import Contact, FileInvalid, Report, normalise, read_csv, read_json
from switchboard.campaigns.dnc import DncStore
from switchboard.campaigns.models import CampaignSpec
from switchboard.campaigns.store import CampaignStore, LazyPool
from switchboard.errors import Conflict, InvalidEvent, NotFound, PayloadTooLarge, Unprocessable
from switchboard.flow.repository import FlowRepository
from switchboard.flow.validate import validate
from switchboard.problems import responses
from switchboard.redis import lease_key
from switchboard_api.auth import Auth
from switchboard_api.calls import account_of
from switchboard_api.guards import check_destination
from switchboard_api.settings import ApiSettings
from switchboard_api.tenancy import Principal

CampaignId = Path(..., min_length=1, max_length=64, description="the campaign's id (cmp_…)")
UPLOAD_ROUTES = (r"/v1/campaigns/[^/]+/contacts", r"/v1/dnc/lists/[^/]+")
"""Paths whose bodies stream and get ``SB_CAMPAIGN_UPLOAD_MAX_BYTES`` instead of the default limit."""
CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": "phone,firstName\n+254700000001,Amina\n"},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


class UploadAnswer(BaseModel):
    """``accepted`` rows stored, ``rejected`` rows refused; ``errors``: the first 1000 refusals,
    each with its ``line`` (CSV: the file's line, 1 = header; JSON: the item, from 1)."""

    accepted: int
    rejected: int
    errors: list[dict[str, Any]]
    errors_truncated: bool


class DncNumbers(BaseModel):
    numbers: list[str] = Field(min_length=1, max_length=10_000, description="E.164 numbers")


def build_router(
    settings: ApiSettings, clients: ProviderClients, flows: FlowRepository, auth: Auth, db: LazyPool, redis: Redis
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["campaigns"])
    write = auth.require("campaigns:write")
    read = auth.require("campaigns:read")
    errors = responses(400, 401, 403, 404, 409, 429)

    async def store() -> CampaignStore:
        return CampaignStore(await db())

    async def dnc() -> DncStore:
        return DncStore(await db(), max_age_days=settings.dnc_max_age_days)

    async def owned(principal: Principal, campaign_id: str) -> dict[str, Any]:
        campaign = await (await store()).get(principal.tenant.tenant_id, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id!r}")
        return campaign

    @router.post(
        "/campaigns", status_code=201, summary="Create a campaign (draft; campaigns:write)",
        responses=responses(400, 401, 403, 404, 422, 429),
    )  # fmt: skip
    async def create(spec: CampaignSpec, principal: Principal = Depends(write)) -> dict[str, Any]:
        account_of(clients, principal, spec.provider, spec.account)
        flows.refresh()
        flow = flows.for_tenant(principal.tenant.tenant_id).get(spec.flow)
        if flow is None:
            raise Unprocessable(f"there is no flow named {spec.flow!r}", field="flow")
        problems = [p for p in validate(flow, provider=spec.provider) if p.severity == "error"]
        if problems:
            raise Unprocessable(
                f"flow {spec.flow!r} cannot run on {spec.provider}", field="flow",
                problems=[(p.pointer, p.message) for p in problems],
            )  # fmt: skip
        return await (await store()).create(principal.tenant.tenant_id, spec)

    @router.get("/campaigns", summary="The tenant's campaigns, newest first (campaigns:read)", responses=errors)
    async def list_campaigns(
        status: str | None = Query(None, pattern="^(draft|running|paused|completed|cancelled)$"),
        limit: int = Query(100, ge=1, le=1000),
        principal: Principal = Depends(read),
    ) -> list[dict[str, Any]]:
        return await (await store()).of_tenant(principal.tenant.tenant_id, status=status, limit=limit)

    @router.get("/campaigns/{campaign_id}", summary="A campaign (campaigns:read)", responses=errors)
    async def get(campaign_id: str = CampaignId, principal: Principal = Depends(read)) -> dict[str, Any]:
        return await owned(principal, campaign_id)

    @router.post(
        "/campaigns/{campaign_id}/contacts", summary="Upload contacts: CSV (streamed) or a JSON list (campaigns:write)",
        response_model=UploadAnswer, responses=responses(400, 401, 403, 404, 409, 413, 415, 429),
        openapi_extra=CSV_BODY,
    )  # fmt: skip
    async def upload(
        request: Request, campaign_id: str = CampaignId, principal: Principal = Depends(write)
    ) -> UploadAnswer:
        campaign = await owned(principal, campaign_id)
        if campaign["status"] in ("completed", "cancelled"):
            raise Conflict(f"the campaign is {campaign['status']}: contacts can no longer be added")
        tenant = principal.tenant

        def check(phone: str) -> None:
            check_destination(tenant, phone)

        report = Report()
        kind = request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()
        batches: AsyncIterator[Sequence[Contact]]
        if kind in ("application/json",):
            batches = _once(await _read_json(request, report, check, settings.campaign_json_max_bytes))
        elif kind in ("text/csv", "text/plain", "application/csv", "application/octet-stream"):
            batches = read_csv(request.stream(), report, check=check)
        else:
            raise InvalidEvent(f"content type {kind!r}: send text/csv or application/json", field="content-type")
        try:
            report.accepted = await (await store()).add_contacts(campaign_id, batches)
        except FileInvalid as exc:
            raise InvalidEvent(str(exc), field="body") from None
        return UploadAnswer(
            accepted=report.accepted, rejected=report.rejected,
            errors=[{"line": e.line, "error": e.error} for e in report.errors],
            errors_truncated=report.rejected > len(report.errors),
        )  # fmt: skip

    for action, words in (
        ("start", "Start dialling (draft → running)"),
        ("pause", "Pause (running → paused; calls already out finish)"),
        ("resume", "Resume (paused → running)"),
        ("cancel", "Cancel (waiting contacts are closed as cancelled)"),
    ):
        _transition_route(router, action, f"{words} (campaigns:write)", write, store, dnc, errors)

    @router.get(
        "/campaigns/{campaign_id}/progress", summary="Counts, attempts and ETA (campaigns:read)", responses=errors
    )
    async def progress(campaign_id: str = CampaignId, principal: Principal = Depends(read)) -> dict[str, Any]:
        answer = await (await store()).progress(
            principal.tenant.tenant_id, campaign_id, default_cps=settings.campaign_default_cps
        )
        if answer is None:
            raise NotFound(f"no campaign {campaign_id!r}")
        # calls out now: the campaign's live-call leases not yet expired (switchboard.pacing)
        answer["pacing"]["live_calls"] = await redis.zcount(
            lease_key("campaign", f"{principal.tenant.tenant_id}/{campaign_id}"), int(time_module.time() * 1000), "+inf"
        )
        return answer

    @router.get(
        "/campaigns/{campaign_id}/contacts", summary="The first contacts, by id (campaigns:read)", responses=errors
    )
    async def contacts(
        campaign_id: str = CampaignId,
        limit: int = Query(100, ge=1, le=1000, description="how many"),
        principal: Principal = Depends(read),
    ) -> list[dict[str, Any]]:
        await owned(principal, campaign_id)
        return await (await store()).contact_ids(principal.tenant.tenant_id, campaign_id, limit=limit)

    @router.get(
        "/campaigns/{campaign_id}/contacts/{contact_id}/attempts",
        summary="A contact and its attempts (campaigns:read)", responses=errors,
    )  # fmt: skip
    async def attempts(
        campaign_id: str = CampaignId,
        contact_id: int = Path(..., ge=1, le=2**62),
        principal: Principal = Depends(read),
    ) -> dict[str, Any]:
        answer = await (await store()).attempts(principal.tenant.tenant_id, campaign_id, contact_id)
        if answer is None:
            raise NotFound(f"no contact {contact_id} in campaign {campaign_id!r}")
        return answer

    @router.post("/dnc", summary="Add numbers to the tenant's do-not-call list (campaigns:write)", responses=errors)
    async def dnc_add(body: DncNumbers, principal: Principal = Depends(write)) -> dict[str, Any]:
        phones = []
        for i, raw in enumerate(body.numbers):
            try:
                phones.append(normalise(raw)[0])
            except ValueError as exc:
                raise InvalidEvent(str(exc), field=f"numbers/{i}") from None
        size = await (await dnc()).add(principal.tenant.tenant_id, phones)
        return {"list": "tenant", "entries": size}

    @router.put(
        "/dnc/lists/{name}", summary="Replace an imported do-not-call list from a CSV (campaigns:write)",
        response_model=UploadAnswer, responses=responses(400, 401, 403, 413, 429), openapi_extra=CSV_BODY,
    )  # fmt: skip
    async def dnc_import(
        request: Request,
        name: str = Path(..., pattern=r"^[A-Za-z0-9._-]{1,100}$"),
        as_of: date | None = Query(None, description="the date the list's source was taken (default: today)"),
        principal: Principal = Depends(write),
    ) -> UploadAnswer:
        report = Report()

        async def phones() -> AsyncIterator[list[str]]:
            async for batch in read_csv(request.stream(), report):
                yield [c.phone for c in batch]

        when = datetime.combine(as_of, time(), tzinfo=UTC) if as_of else None
        try:
            report.accepted = await (await dnc()).replace(principal.tenant.tenant_id, name, phones(), as_of=when)
        except FileInvalid as exc:
            raise InvalidEvent(str(exc), field="body") from None
        return UploadAnswer(
            accepted=report.accepted, rejected=report.rejected,
            errors=[{"line": e.line, "error": e.error} for e in report.errors],
            errors_truncated=report.rejected > len(report.errors),
        )  # fmt: skip

    @router.get("/dnc/lists", summary="The tenant's do-not-call lists, their age and staleness (campaigns:read)",
                responses=responses(401, 403, 429))  # fmt: skip
    async def dnc_lists(principal: Principal = Depends(read)) -> list[dict[str, Any]]:
        return await (await dnc()).lists(principal.tenant.tenant_id)

    return router


def _transition_route(router, action, summary, write, store, dnc, errors) -> None:
    @router.post(f"/campaigns/{{campaign_id}}/{action}", summary=summary, responses=errors)
    async def transition(campaign_id: str = CampaignId, principal: Principal = Depends(write)) -> dict[str, Any]:
        campaign = await (await store()).transition(principal.tenant.tenant_id, campaign_id, action)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id!r}")
        if action in ("start", "resume"):
            stale = [x["name"] for x in await (await dnc()).lists(principal.tenant.tenant_id) if x["stale"]]
            campaign["warnings"] = [f"do-not-call list {n!r} is older than the allowed age" for n in stale]
        return campaign

    transition.__name__ = f"campaign_{action}"


async def _read_json(request: Request, report: Report, check: Any, max_bytes: int) -> list[Contact]:
    """A JSON contact list is parsed whole, so it has a smaller limit than a streamed CSV."""
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"a JSON contact list is limited to {max_bytes} bytes; send a CSV to stream more")
        parts.append(chunk)
    body = b"".join(parts)
    try:
        return read_json(body, report, check=check)
    except FileInvalid as exc:
        raise InvalidEvent(str(exc), field="body") from None


async def _once(batch: list[Contact]) -> AsyncIterator[list[Contact]]:
    for start in range(0, len(batch), 5000):
        yield batch[start : start + 5000]


__all__ = ["UPLOAD_ROUTES", "build_router"]
