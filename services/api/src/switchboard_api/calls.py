"""Placing calls: the original ``GET /voice/`` and ``GET /voice/invoke-call``, and ``POST /v1/calls``.

Both publish a :class:`~switchboard.events.DialRequest` and wait up to ``SB_DIAL_WAIT_S`` for the
dialer's result: 200 with the provider's answer when the call was queued, 502 when the provider
refused it, 202 with the call id when pacing delays it or the dialer's answer cannot be read in
time (the call is queued: a client must never take a 5xx for a call that will ring). Refusals
before anything rings: 400 for bad input, 422 for an unknown account or flow or a flow the
provider cannot carry out, 503 when the broker cannot take the request.

Idempotency (as Stripe's and Twilio's ``Idempotency-Key``): a request with a key (body
``idempotency_key`` or the ``Idempotency-Key`` header) that was already used is answered at once
with the first request's ``call_id`` (200, ``Idempotent-Replayed: true``) and places nothing.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from switchboard.accounts import ProviderClients
from switchboard.errors import ServiceUnavailable, Unprocessable
from switchboard.events import DialRequest, encode
from switchboard.flow.repository import FlowRepository
from switchboard.flow.validate import validate
from switchboard.logging import get_logger
from switchboard.phone import E164
from switchboard.problems import responses
from switchboard.providers import ProviderName
from switchboard.redis import as_bytes, call_id_key, dial_result_key, idempotency_key
from switchboard.topics import Topic
from switchboard_ingress.settings import IngressSettings

log = get_logger(__name__)

IDEMPOTENCY_TTL_S = 7 * 24 * 3600


class CallRequest(BaseModel):
    """``POST /v1/calls``: ``to`` (E.164 or international digits), the ``flow`` to run when
    answered, ``session_data`` for it (``$sessionData``), optional ``caller_id`` (E.164),
    ``campaign_id`` and ``idempotency_key`` (a repeated key places the call once)."""

    to: E164
    flow: str = Field(min_length=1, max_length=200)
    provider: ProviderName = "africastalking"
    account: str = Field(default="default", min_length=1, max_length=100)
    session_data: dict[str, Any] = Field(default_factory=dict)
    caller_id: E164 | None = None
    campaign_id: str | None = Field(default=None, max_length=128)  # cdrs.campaign_id varchar(128)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


class CallAnswer(BaseModel):
    """The answer to a call request. ``message``: ``Call initiated`` (the provider queued it),
    ``Call queued`` (still waiting for the dialer: 202) or ``Call already requested`` (an
    idempotent repeat); ``call_key`` is ``<provider>:<provider call id>`` once known;
    ``provider_response`` is the provider's own answer."""

    message: str
    call_id: str
    request_id: str | None = None
    call_key: str | None = None
    provider_response: Any = None


def refusal(flows: FlowRepository, clients: ProviderClients, request: DialRequest) -> None:
    """Raises :class:`Unprocessable` (422) before the call for an unknown account or flow, or a
    flow the provider cannot carry out (with each problem's JSON pointer)."""
    if clients.account(request.provider, request.account) is None:
        raise Unprocessable(f"no {request.provider} account named {request.account!r}", field="account")
    flows.refresh()
    flow = flows.get(request.flow)
    if flow is None:
        raise Unprocessable(f"there is no flow named {request.flow!r}", field="flow")
    problems = [p for p in validate(flow, provider=request.provider) if p.severity == "error"]
    if problems:
        raise Unprocessable(
            f"flow {request.flow!r} cannot run on {request.provider}",
            field="flow",
            problems=[(p.pointer, p.message) for p in problems],
        )


def build_router(
    settings: IngressSettings, broker: KafkaBroker, redis: Redis, flows: FlowRepository, clients: ProviderClients
) -> APIRouter:
    router = APIRouter()

    async def replayed(request: DialRequest) -> JSONResponse | None:
        """The first call's answer when the request's idempotency key was used before, else None
        (and the key is now taken by this request)."""
        if request.idempotency_key is None:
            return None
        key = idempotency_key(request.idempotency_key)
        ids = orjson.dumps({"call_id": request.call_id, "request_id": request.request_id})
        if await redis.set(key, ids, nx=True, ex=IDEMPOTENCY_TTL_S):
            return None
        raw = await redis.get(key)
        first = orjson.loads(raw) if raw else {"call_id": request.call_id}
        call_key = await redis.get(call_id_key(first["call_id"]))
        answer = CallAnswer(
            message="Call already requested",
            call_id=first["call_id"],
            request_id=first.get("request_id"),
            call_key=as_bytes(call_key).decode() if call_key else None,
        )
        log.info("idempotent repeat answered", call_id=answer.call_id)
        return JSONResponse(answer.model_dump(), headers={"Idempotent-Replayed": "true"})

    async def place(request: DialRequest) -> JSONResponse:
        refusal(flows, clients, request)
        if (again := await replayed(request)) is not None:
            return again
        try:
            await broker.publish(encode(request), Topic.DIAL_REQUESTS.value, key=request.request_id.encode())
        except Exception as exc:
            log.error("dial request not published", error=repr(exc))
            if request.idempotency_key:
                await redis.delete(idempotency_key(request.idempotency_key))
            raise ServiceUnavailable("could not queue the call; try again") from exc
        ids = {"call_id": request.call_id, "request_id": request.request_id}
        try:
            got = await asyncio.wait_for(
                redis.blpop([dial_result_key(request.request_id)], timeout=settings.dial_wait_s),
                settings.dial_wait_s + 1,
            )
            result = orjson.loads(got[1]) if got is not None else None
        except Exception as exc:  # queued already: never a 5xx for a call that will be placed
            log.warning("dialer's answer unavailable; answering 202", error=repr(exc))
            result = None
        if not isinstance(result, dict):
            return JSONResponse(CallAnswer(message="Call queued", **ids).model_dump(), status_code=202)
        if result.get("accepted"):
            answer = CallAnswer(
                message="Call initiated",
                **ids,
                call_key=result.get("call_key"),
                provider_response=result.get("provider_response"),
            )
            return JSONResponse(answer.model_dump())
        detail = f"provider refused the call: {result.get('provider_status')}"
        body = {
            "type": "urn:switchboard:problem:provider-error",
            "title": "Provider error",
            "status": 502,
            "detail": detail,
            **ids,
            "provider_response": result.get("provider_response"),
        }
        return JSONResponse(body, status_code=502, media_type="application/problem+json")

    @router.get("/voice/", tags=["voice"], summary="Voice service status")
    async def status() -> dict[str, str]:
        return {"service": "voice", "status": "ready"}

    placing = responses(400, 422, 502, 503)
    placed: dict[int | str, dict[str, Any]] = {
        200: {"model": CallAnswer},
        202: {"model": CallAnswer, "description": "queued; not placed yet"},
    }

    @router.get(
        "/voice/invoke-call",
        tags=["voice"],
        summary="Place an outbound call (the original /voice API)",
        response_model=CallAnswer,
        responses={**placed, **placing},
    )
    async def invoke_call(
        phone: Annotated[E164, Query(description="number to call, e.g. 2547XXXXXXX or +2547XXXXXXX")],
        flow: str | None = Query(None, max_length=200, description="flow to run when answered"),
        provider: ProviderName = Query("africastalking", description="provider to call on"),
    ) -> JSONResponse:
        return await place(DialRequest(to=phone, flow=flow or settings.invoke_flow, provider=provider))

    @router.post(
        "/v1/calls",
        tags=["calls"],
        summary="Place an outbound call with session data",
        response_model=CallAnswer,
        responses={**placed, **placing},
    )
    async def create_call(
        call: CallRequest,
        idempotency_key_header: str | None = Header(
            None, alias="Idempotency-Key", max_length=200, description="same as the body's idempotency_key"
        ),
    ) -> JSONResponse:
        return await place(
            DialRequest(
                to=call.to,
                flow=call.flow,
                provider=call.provider,
                account=call.account,
                session_data=call.session_data,
                caller_id=call.caller_id,
                campaign_id=call.campaign_id,
                idempotency_key=call.idempotency_key or idempotency_key_header,
            )
        )

    return router
