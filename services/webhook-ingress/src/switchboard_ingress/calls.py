"""Placing calls: seed 001's ``GET /voice/`` and ``GET /voice/invoke-call``, and ``POST /v1/calls``.

Both publish a :class:`~switchboard.events.DialRequest` and wait up to ``SB_DIAL_WAIT_S`` for the
dialer's result: 200 with the provider's answer when the call was queued, 502 when the provider
refused it, 202 with the call id when pacing delays it.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from switchboard.accounts import ProviderClients
from switchboard.errors import InvalidEvent
from switchboard.events import DialRequest, encode
from switchboard.flow.repository import FlowRepository
from switchboard.flow.validate import validate
from switchboard.logging import get_logger
from switchboard.phone import to_e164
from switchboard.providers import ProviderName
from switchboard.redis import dial_result_key
from switchboard.topics import Topic
from switchboard_ingress.settings import IngressSettings

log = get_logger(__name__)


class CallRequest(BaseModel):
    """``POST /v1/calls``: ``to`` (E.164 or international digits), the ``flow`` to run when
    answered, ``session_data`` for it (``$sessionData``), optional ``caller_id`` (E.164),
    ``campaign_id`` and ``idempotency_key`` (a repeated key places the call once)."""

    to: str
    flow: str
    provider: ProviderName = "africastalking"
    account: str = "default"
    session_data: dict[str, Any] = Field(default_factory=dict)
    caller_id: str | None = None
    campaign_id: str | None = None
    idempotency_key: str | None = Field(default=None, max_length=200)


def bad(field: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=400)


def refusal(flows: FlowRepository, clients: ProviderClients, request: DialRequest) -> JSONResponse | None:
    """422 before the call for an unknown account or flow, or a flow the provider cannot carry out."""
    if clients.account(request.provider, request.account) is None:
        message = f"no {request.provider} account named {request.account!r}"
        return JSONResponse({"error": message, "field": "account"}, status_code=422)
    flows.refresh()
    flow = flows.get(request.flow)
    if flow is None:
        return JSONResponse({"error": f"there is no flow named {request.flow!r}", "field": "flow"}, status_code=422)
    problems = [p for p in validate(flow, provider=request.provider) if p.severity == "error"]
    if problems:
        return JSONResponse(
            {
                "error": f"flow {request.flow!r} cannot run on {request.provider}",
                "field": "flow",
                "problems": [{"pointer": p.pointer, "message": p.message} for p in problems],
            },
            status_code=422,
        )
    return None


def build_router(
    settings: IngressSettings, broker: KafkaBroker, redis: Redis, flows: FlowRepository, clients: ProviderClients
) -> APIRouter:
    router = APIRouter()

    async def place(request: DialRequest) -> JSONResponse:
        if refused := refusal(flows, clients, request):
            return refused
        try:
            await broker.publish(encode(request), Topic.DIAL_REQUESTS.value, key=request.request_id.encode())
        except Exception as exc:
            log.error("dial request not published", error=repr(exc))
            return JSONResponse({"error": "could not queue the call; try again"}, status_code=503)
        got = await redis.blpop([dial_result_key(request.request_id)], timeout=settings.dial_wait_s)
        ids = {"call_id": request.call_id, "request_id": request.request_id}
        if got is None:
            return JSONResponse({"message": "Call queued", **ids}, status_code=202)
        result = orjson.loads(got[1])
        body = {**ids, "provider_response": result.get("provider_response")}
        if result.get("accepted"):
            return JSONResponse({"message": "Call initiated", **body, "call_key": result.get("call_key")})
        return JSONResponse(
            {"error": f"provider refused the call: {result.get('provider_status')}", **body}, status_code=502
        )

    @router.get("/voice/", tags=["voice"], summary="Voice service status")
    async def status() -> dict[str, str]:
        return {"service": "voice", "status": "ready"}

    @router.get("/voice/invoke-call", tags=["voice"], summary="Place an outbound call (seed 001)")
    async def invoke_call(
        phone: str | None = Query(None, description="number to call, e.g. 2547XXXXXXX or +2547XXXXXXX"),
        flow: str | None = Query(None, description="flow to run when answered"),
        provider: ProviderName = Query("africastalking", description="provider to call on"),
    ) -> JSONResponse:
        if not phone:
            return bad("phone", "missing 'phone' query parameter")
        try:
            number = to_e164(phone)
        except InvalidEvent as exc:
            return bad("phone", str(exc))
        return await place(DialRequest(to=number, flow=flow or settings.invoke_flow, provider=provider))

    @router.post("/v1/calls", tags=["calls"], summary="Place an outbound call with session data")
    async def create_call(call: CallRequest) -> JSONResponse:
        try:
            to = to_e164(call.to)
            caller_id = to_e164(call.caller_id) if call.caller_id else None
        except InvalidEvent as exc:
            return bad("caller_id" if call.caller_id and str(call.caller_id) in str(exc) else "to", str(exc))
        return await place(
            DialRequest(
                to=to,
                flow=call.flow,
                provider=call.provider,
                account=call.account,
                session_data=call.session_data,
                caller_id=caller_id,
                campaign_id=call.campaign_id,
                idempotency_key=call.idempotency_key,
            )
        )

    return router
