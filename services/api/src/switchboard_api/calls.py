"""Placing calls: the original ``GET /voice/`` and ``GET /voice/invoke-call``, and ``POST /v1/calls``.

Every route needs an API key (:mod:`switchboard_api.auth`): ``calls:write`` to place a call,
``calls:read`` for ``GET /voice/``. A call belongs to the key's tenant (``tenant_id`` on the dial
request, the call state and the CDR) and passes that tenant's toll-fraud guards before anything is
published (:mod:`switchboard_api.guards`: 403 for a destination the policy refuses, 429 with
``Retry-After`` over a cap).

Both publish a :class:`~switchboard.events.DialRequest` and wait up to ``SB_DIAL_WAIT_S`` for the
dialer's result: 200 with the provider's answer when the call was queued, 502 when the provider
refused it, 202 with the call id when pacing delays it or the dialer's answer cannot be read in
time (the call is queued: a client must never take a 5xx for a call that will ring). Refusals
before anything rings: 400 for bad input, 404 for an account the tenant does not have (the same
answer whether it exists for another tenant or not at all), 422 for an unknown flow or a flow the
provider cannot carry out, 503 when the broker cannot take the request.

Idempotency (as Stripe's and Twilio's ``Idempotency-Key``): a request with a key (body
``idempotency_key`` or the ``Idempotency-Key`` header) that was already used is answered at once
with the first request's ``call_id`` (200, ``Idempotent-Replayed: true``) and places nothing.
Keys are per tenant: two tenants using the same key place two calls.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from switchboard import status_callbacks
from switchboard.accounts import ProviderClients
from switchboard.errors import Forbidden, NotFound, ServiceUnavailable, Unprocessable
from switchboard.events import DialRequest, StatusCallback, encode
from switchboard.flow.document import FlowInvalid, build_flow
from switchboard.flow.repository import FlowRepository
from switchboard.flow.validate import validate
from switchboard.logging import get_logger
from switchboard.phone import E164
from switchboard.problems import responses
from switchboard.providers import ProviderName
from switchboard.redis import as_bytes, call_id_key, dial_result_key, idempotency_key
from switchboard.topics import Topic
from switchboard_api.auth import Auth
from switchboard_api.guards import Caps, check_destination
from switchboard_api.settings import ApiSettings
from switchboard_api.tenancy import Principal

log = get_logger(__name__)

IDEMPOTENCY_TTL_S = 7 * 24 * 3600


class CallRequest(BaseModel):
    """``POST /v1/calls``: ``to`` (E.164 or international digits), the ``flow`` to run when
    answered (or a ``flow_document`` to run under that name: a draft, as Twilio's inline TwiML),
    ``session_data`` for it (``$sessionData``), optional ``caller_id`` (E.164), ``campaign_id``,
    ``idempotency_key`` (a repeated key places the call once) and
    ``status_callback`` (where the call's progress is POSTed: docs/status-callbacks.md)."""

    to: E164
    flow: str = Field(min_length=1, max_length=200)
    flow_document: dict[str, Any] | None = Field(
        default=None,
        description="run this flow document (as a flow file's JSON) instead of the file named by flow, "
        "which still names the call's flow in its CDR; checked for the provider first; needs flows:write",
    )
    provider: ProviderName = "africastalking"
    account: str = Field(default="default", min_length=1, max_length=100)
    session_data: dict[str, Any] = Field(default_factory=dict)
    caller_id: E164 | None = None
    campaign_id: str | None = Field(default=None, max_length=128)  # cdrs.campaign_id varchar(128)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    status_callback: StatusCallback | None = None


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


def account_of(clients: ProviderClients, principal: Principal, provider: str, account: str) -> None:
    """Raises :class:`NotFound` (404, field ``account``) unless the provider account exists and
    the tenant may use it (its policy's ``accounts``)."""
    if clients.account(provider, account) is None or not principal.tenant.policy.may_use(provider, account):
        raise NotFound(f"no {provider} account named {account!r} for this tenant", field="account")


def refusal(flows: FlowRepository, clients: ProviderClients, principal: Principal, request: DialRequest) -> None:
    """Raises before the call: :class:`Forbidden` (403) for a destination the tenant's policy
    refuses or a flow document without the ``flows:write`` scope, :class:`NotFound` (404) for an
    account the tenant does not have, :class:`Unprocessable` (422) for an unknown flow or a flow
    (or document) the provider cannot carry out (with each problem's JSON pointer)."""
    check_destination(principal.tenant, request.to)
    account_of(clients, principal, request.provider, request.account)
    if request.flow_document is not None:
        if not principal.has("flows:write"):
            raise Forbidden("running a flow document needs the 'flows:write' scope", field="flow_document")
        try:
            build_flow(request.flow_document, name=request.flow, provider=request.provider)
        except FlowInvalid as exc:
            errors = [p for p in exc.problems if p.severity == "error"]
            raise Unprocessable(
                f"the flow document cannot run on {request.provider}",
                field="flow_document",
                problems=[(f"/flow_document{p.pointer}", p.message) for p in errors],
            ) from None
        return
    flows.refresh()
    flow = flows.for_tenant(principal.tenant.tenant_id).get(request.flow)  # the tenant's folder, else the top level
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
    settings: ApiSettings,
    broker: KafkaBroker,
    redis: Redis,
    flows: FlowRepository,
    clients: ProviderClients,
    auth: Auth,
) -> APIRouter:
    router = APIRouter()
    caps = Caps(redis, call_lease_s=settings.call_lease_s)

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

    async def place(principal: Principal, request: DialRequest) -> JSONResponse:
        refusal(flows, clients, principal, request)
        if (again := await replayed(request)) is not None:
            return again
        try:
            await caps.take(principal.tenant, request.call_id)
        except Exception:
            if request.idempotency_key:
                await redis.delete(idempotency_key(request.idempotency_key))
            raise
        try:
            await broker.publish(encode(request), Topic.DIAL_REQUESTS.value, key=request.request_id.encode())
        except Exception as exc:
            log.error("dial request not published", error=repr(exc))
            await caps.release(request.call_id)
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

    @router.get(
        "/v1/status-callbacks/key",
        tags=["calls"],
        summary="The tenant's status-callback signing key (calls:read)",
        responses=responses(401, 403, 429),
    )
    async def status_callback_key(principal: Principal = Depends(auth.require("calls:read"))) -> dict[str, str]:
        """``{"key", "algorithm", "signed"}``: the key the notifier signs this tenant's status
        callbacks with (HMAC-SHA256 of ``<X-Switchboard-Timestamp>.<body>``; docs/status-callbacks.md)."""
        secret = settings.status_callback_secret.get_secret_value()
        return {
            "key": status_callbacks.tenant_key(secret, principal.tenant.tenant_id),
            "algorithm": "HMAC-SHA256",
            "signed": "<X-Switchboard-Timestamp>.<raw body>",
        }

    @router.get(
        "/voice/", tags=["voice"], summary="Voice service status (calls:read)", responses=responses(401, 403, 429)
    )
    async def status(principal: Principal = Depends(auth.require("calls:read"))) -> dict[str, str]:
        return {"service": "voice", "status": "ready"}

    placing = responses(400, 401, 403, 404, 422, 429, 502, 503)
    placed: dict[int | str, dict[str, Any]] = {
        200: {"model": CallAnswer},
        202: {"model": CallAnswer, "description": "queued; not placed yet"},
    }

    @router.get(
        "/voice/invoke-call",
        tags=["voice"],
        summary="Place an outbound call (the original /voice API; calls:write)",
        response_model=CallAnswer,
        responses={**placed, **placing},
    )
    async def invoke_call(
        phone: Annotated[E164, Query(description="number to call, e.g. 2547XXXXXXX or +2547XXXXXXX")],
        flow: str | None = Query(None, max_length=200, description="flow to run when answered"),
        provider: ProviderName = Query("africastalking", description="provider to call on"),
        principal: Principal = Depends(auth.require("calls:write")),
    ) -> JSONResponse:
        request = DialRequest(
            to=phone,
            flow=flow or settings.invoke_flow,
            provider=provider,
            tenant_id=principal.tenant.tenant_id,
            tenant_max_live_calls=principal.tenant.policy.max_live_calls,
        )
        return await place(principal, request)

    @router.post(
        "/v1/calls",
        tags=["calls"],
        summary="Place an outbound call with session data (calls:write)",
        response_model=CallAnswer,
        responses={**placed, **placing},
    )
    async def create_call(
        call: CallRequest,
        idempotency_key_header: str | None = Header(
            None, alias="Idempotency-Key", max_length=200, description="same as the body's idempotency_key"
        ),
        principal: Principal = Depends(auth.require("calls:write")),
    ) -> JSONResponse:
        tenant = principal.tenant.tenant_id
        key = call.idempotency_key or idempotency_key_header
        return await place(
            principal,
            DialRequest(
                tenant_id=tenant,
                to=call.to,
                flow=call.flow,
                flow_document=call.flow_document,
                provider=call.provider,
                account=call.account,
                session_data=call.session_data,
                caller_id=call.caller_id,
                campaign_id=call.campaign_id,
                idempotency_key=f"{tenant}:{key}" if key else None,
                tenant_max_live_calls=principal.tenant.policy.max_live_calls,
                status_callback=call.status_callback,
            ),
        )

    return router
