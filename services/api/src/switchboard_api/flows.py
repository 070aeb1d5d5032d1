"""Flows on the control plane (``flows:read``): what a tenant's calls run, and the validator.

- ``GET /v1/flows``: the tenant's flows (its folder's, else the top level's): name, current
  version, the inbound numbers routed to it, its warnings.
- ``GET /v1/flows/{name}``: one flow with its source text and the versions that ran calls (from the
  CDRs: version, calls, first and last call start).
- ``POST /v1/flows/validate``: check a flow's text (JSON or YAML) as the flow-runner loads a file,
  optionally against a provider; every problem with its JSON pointer and line
  (:func:`switchboard.flow.lines.check_text`). 200 with ``valid: false`` for a broken flow: the
  request was fine, the flow is not.

Flows are files (``SB_FLOWS_DIR``, a ConfigMap in Kubernetes) changed through the operator's
deployment, not through the API (docs/security.md); the console edits and checks a draft, and
downloads it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path as FilePath
from typing import Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.errors import InvalidEvent, NotFound
from switchboard.flow.document import Flow
from switchboard.flow.lines import check_text
from switchboard.flow.repository import FlowRepository
from switchboard.problems import responses
from switchboard.providers import PROVIDERS
from switchboard_api.auth import Auth
from switchboard_api.tenancy import Principal


class DraftIn(BaseModel):
    """``text``: the flow, JSON or YAML (at most 256 KiB); ``provider``: also check what this
    provider cannot carry out."""

    text: str = Field(max_length=256 * 1024)
    provider: str | None = Field(default=None, max_length=32)


class ProblemOut(BaseModel):
    pointer: str = Field(description="RFC 6901 JSON pointer into the document ('' for the whole text)")
    line: int | None = Field(description="line in the text, from 1; null when it has no place")
    severity: str
    message: str


class DraftAnswer(BaseModel):
    valid: bool
    version: str | None = Field(description="the version the flow would have (12 hex characters), when valid")
    problems: list[ProblemOut]
    document: dict[str, Any] | None = Field(
        default=None, description="the flow as JSON, when valid: what POST /v1/calls takes as flow_document"
    )


def _summary(flow: Flow, numbers: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "name": flow.name,
        "version": flow.version,
        "file": FilePath(flow.source).name if flow.source else None,
        "dialect": flow.dialect,
        "numbers": numbers.get(flow.name, []),
        "warnings": [str(w) for w in flow.warnings],
        "actions": len(flow.actions),
    }


def build_router(flows: FlowRepository, engine: AsyncEngine, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["flows"])
    reader = auth.require("flows:read")

    def tenant_flows(principal: Principal) -> tuple[FlowRepository, dict[str, list[str]]]:
        flows.refresh()
        repo = flows.for_tenant(principal.tenant.tenant_id)
        numbers: dict[str, list[str]] = {}
        for provider, routes in repo.routes.items():
            for number, target in routes.items():
                numbers.setdefault(target, []).append(f"{number} ({provider})")
        return repo, numbers

    @router.get("/flows", summary="The tenant's flows (flows:read)", responses=responses(401, 403, 429))
    async def list_flows(principal: Principal = Depends(reader)) -> list[dict[str, Any]]:
        repo, numbers = tenant_flows(principal)
        return [_summary(repo.current[name], numbers) for name in sorted(repo.current)]

    @router.get(
        "/flows/{name}", summary="One flow, its source and the versions that ran calls (flows:read)",
        responses=responses(400, 401, 403, 404, 429),
    )  # fmt: skip
    async def get_flow(
        name: str = Path(max_length=200, pattern=r"^[^\x00/]+$"), principal: Principal = Depends(reader)
    ) -> dict[str, Any]:
        repo, numbers = tenant_flows(principal)
        flow = repo.current.get(name)
        if flow is None:
            raise NotFound(f"no flow named {name!r}", field="name")
        source = await asyncio.to_thread(FilePath(flow.source).read_text) if flow.source else ""
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT flow_version, count(*) AS calls, min(call_start) AS first_call, "
                    "max(call_start) AS last_call FROM cdrs WHERE tenant_id = :tenant AND flow_id = :flow "
                    "GROUP BY flow_version ORDER BY max(call_start) DESC NULLS LAST LIMIT 50"
                ),
                {"tenant": principal.tenant.tenant_id, "flow": name},
            )
            versions = [
                {"version": r.flow_version, "calls": r.calls, "first_call": r.first_call, "last_call": r.last_call}
                for r in rows
            ]
        return {**_summary(flow, numbers), "source": source, "versions": versions}

    @router.post(
        "/flows/validate", summary="Check a flow's text: problems with JSON pointer and line (flows:read)",
        response_model=DraftAnswer, responses=responses(400, 401, 403, 422, 429),
    )  # fmt: skip
    async def validate_draft(draft: DraftIn, principal: Principal = Depends(reader)) -> DraftAnswer:
        if draft.provider is not None and draft.provider not in PROVIDERS:
            raise InvalidEvent(f"no provider {draft.provider!r}: one of {', '.join(PROVIDERS)}", field="provider")
        flow, problems = await asyncio.to_thread(check_text, draft.text, provider=draft.provider)
        return DraftAnswer(
            valid=flow is not None,
            version=flow.version if flow else None,
            problems=[ProblemOut(**vars(p)) for p in problems],
            document=flow.doc if flow else None,
        )

    return router
