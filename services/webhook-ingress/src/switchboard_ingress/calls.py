"""Seed 001's voice service endpoints: ``GET /voice/`` and ``GET /voice/invoke-call``.

``invoke-call`` publishes a :class:`~switchboard.events.DialRequest` and waits up to
``SB_DIAL_WAIT_S`` for the dialer's result: 200 with the provider's answer when the call was
queued, 502 when the provider refused it, 202 with the call id when pacing delays it.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from switchboard.errors import InvalidEvent
from switchboard.events import DialRequest, encode
from switchboard.logging import get_logger
from switchboard.phone import to_e164
from switchboard.redis import dial_result_key
from switchboard.topics import Topic
from switchboard_ingress.settings import IngressSettings

log = get_logger(__name__)


def build_router(settings: IngressSettings, broker: KafkaBroker, redis: Redis) -> APIRouter:
    router = APIRouter(prefix="/voice", tags=["voice"])

    @router.get("/", summary="Voice service status")
    async def status() -> dict[str, str]:
        return {"service": "voice", "status": "ready"}

    @router.get("/invoke-call", summary="Place an outbound call")
    async def invoke_call(
        phone: str | None = Query(None, description="number to call, e.g. 2547XXXXXXX or +2547XXXXXXX"),
        flow: str | None = Query(None, description="flow to run when answered"),
    ) -> JSONResponse:
        if not phone:
            return JSONResponse({"error": "missing 'phone' query parameter", "field": "phone"}, status_code=400)
        try:
            number = to_e164(phone)
        except InvalidEvent as exc:
            return JSONResponse({"error": str(exc), "field": "phone"}, status_code=400)
        request = DialRequest(to=number, flow=flow or settings.invoke_flow)
        try:
            await broker.publish(encode(request), Topic.DIAL_REQUESTS.value, key=request.request_id.encode())
        except Exception as exc:
            log.error("dial request not published", error=repr(exc))
            return JSONResponse({"error": "could not queue the call; try again"}, status_code=503)
        got = await redis.blpop([dial_result_key(request.request_id)], timeout=settings.dial_wait_s)
        if got is None:
            return JSONResponse(
                {"message": "Call queued", "call_id": request.call_id, "request_id": request.request_id},
                status_code=202,
            )
        result = orjson.loads(got[1])
        body = {
            "call_id": request.call_id,
            "request_id": request.request_id,
            "provider_response": result.get("provider_response"),
        }
        if result.get("accepted"):
            return JSONResponse({"message": "Call initiated", **body, "call_key": result.get("call_key")})
        return JSONResponse(
            {"error": f"provider refused the call: {result.get('provider_status')}", **body}, status_code=502
        )

    return router
