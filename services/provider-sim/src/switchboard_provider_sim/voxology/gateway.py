"""The Voxology REST API the platform uses (``voxology.md`` §2) and the simulator's control API.

- ``POST /v1/Dials/Connect``: ``X-API-KEY`` (any casing); JSON ``{call: {no, caller_id_no},
  session_data?, timeout?, max_call_time?}``; 401 for a bad key, 400 for a missing or malformed
  number, else 200 ``{"call_id": …}`` (the spec's assumption) and the phone rings.
- ``POST /sim/voxology/inbound``: a caller dials a Voxology number.
- ``POST /sim/voxology/conferences/{name}``: ``{"participants": n}`` people join that room (someone
  already answered), for a flow's full-room branch; answers how many are in it.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from switchboard_provider_sim.africastalking.gateway import Gateway
from switchboard_provider_sim.phone import InboundCall, SimCall
from switchboard_provider_sim.voxology.runner import VoxologyRunner, new_call_id

E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def build_router(gw: Gateway) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/Dials/Connect", tags=["voxology"])
    async def connect(request: Request) -> Any:
        key = next((v for k, v in request.headers.items() if k.lower() == "x-api-key"), None)
        if key != gw.settings.vox_api_key:
            return JSONResponse({"error": "not_authorized"}, status_code=401)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        call = body.get("call") if isinstance(body, dict) else None
        if not isinstance(call, dict) or not E164.match(str(call.get("no", ""))):
            return JSONResponse({"error": "invalid_phone_number"}, status_code=400)
        if not E164.match(str(call.get("caller_id_no", ""))):
            return JSONResponse({"error": "caller_id_no is required"}, status_code=400)
        sim = SimCall(
            session_id=new_call_id(),
            direction="Outbound",
            caller_number=call["no"],
            destination_number=call["caller_id_no"],
            script=gw.script_for(call["no"]),
            provider="voxology",
            session_data=dict(body.get("session_data") or {}),
        )
        gw.start(sim)
        return {"call_id": sim.session_id}

    @router.post("/sim/voxology/conferences/{name}", tags=["control"])
    async def seat(name: str, request: Request) -> dict[str, Any]:
        body = await request.json()
        runner = gw.runners["voxology"]
        assert isinstance(runner, VoxologyRunner)
        return {"name": name, "participants": runner.seat(name, int(body.get("participants", 1)))}

    @router.post("/sim/voxology/inbound", tags=["control"])
    async def inbound(req: InboundCall) -> dict[str, str]:
        sim = SimCall(
            session_id=new_call_id(),
            direction="Inbound",
            caller_number=req.caller,
            destination_number=req.to,
            script=req.script(),
            provider="voxology",
        )
        gw.start(sim)
        return {"session_id": sim.session_id}

    return router
