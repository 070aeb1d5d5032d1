"""The Telesign REST API the platform uses (``telesign.md`` §2) and the simulator's control API.

- ``POST /v2/voice``: Basic ``customer_id:api_key``; a JSON-RPC ``dial`` (``jsonrpc``/``id`` optional):
  202 ``{reference_id, status: dial_accepted, external_id?}``; 400 ``to_number_not_provided``,
  ``invalid_phone_number``, ``caller_id_number_not_provided``; 401 ``not_authorized``; other methods
  on REST → 400 ``unsupported_call_state``.
- ``POST /sim/telesign/inbound``: a caller dials a Telesign number.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from switchboard_provider_sim.africastalking.gateway import Gateway
from switchboard_provider_sim.phone import InboundCall, SimCall
from switchboard_provider_sim.telesign.runner import new_reference_id

DIGITS = re.compile(r"^\+?[1-9]\d{7,14}$")


def status(code: int, value: str) -> JSONResponse:
    return JSONResponse({"status": value}, status_code=code)


def build_router(gw: Gateway) -> APIRouter:
    router = APIRouter()
    expected = "Basic " + base64.b64encode(f"{gw.settings.ts_customer_id}:{gw.settings.ts_api_key}".encode()).decode()

    @router.post("/v2/voice", tags=["telesign"])
    async def voice(request: Request) -> Any:
        if request.headers.get("authorization") != expected:
            return status(401, "not_authorized")
        try:
            body = await request.json()
        except ValueError:
            return status(400, "invalid_request")
        if not isinstance(body, dict) or body.get("method") != "dial":
            return status(400, "unsupported_call_state")
        params = body.get("params") or {}
        to, caller_id = str(params.get("to") or ""), str(params.get("caller_id_number") or "")
        if not to:
            return status(400, "to_number_not_provided")
        if not DIGITS.match(to):
            return status(400, "invalid_phone_number")
        if not caller_id:
            return status(400, "caller_id_number_not_provided")
        number = f"+{to.lstrip('+')}"
        sim = SimCall(
            session_id=new_reference_id(),
            direction="Outbound",
            caller_number=number,
            destination_number=f"+{caller_id.lstrip('+')}",
            script=gw.script_for(number),
            provider="telesign",
            client_request_id=str(params["external_id"]) if params.get("external_id") else None,
        )
        gw.start(sim)
        answer = {"reference_id": sim.session_id, "status": "dial_accepted"}
        if sim.client_request_id:
            answer["external_id"] = sim.client_request_id
        return JSONResponse(answer, status_code=202)

    @router.post("/sim/telesign/inbound", tags=["control"])
    async def inbound(req: InboundCall) -> dict[str, str]:
        script = req.script()
        sim = SimCall(
            session_id=new_reference_id(),
            direction="Inbound",
            caller_number=req.caller,
            destination_number=req.to,
            script=script,
            provider="telesign",
        )
        gw.start(sim)
        return {"session_id": sim.session_id}

    return router
