"""The Telesign REST API the platform uses (``telesign.md`` §2) and the simulator's control API.

- ``POST /v2/voice``: Basic ``customer_id:api_key`` or the official SDK's default HMAC "TSA" digest
  (spec §2, see :func:`authorized`); a JSON-RPC ``dial`` (``jsonrpc``/``id`` optional):
  202 ``{reference_id, status: dial_accepted, external_id?}``; 400 ``to_number_not_provided``,
  ``invalid_phone_number``, ``caller_id_number_not_provided``; 401 ``not_authorized``; other methods
  on REST → 400 ``unsupported_call_state``.
- ``POST /sim/telesign/inbound``: a caller dials a Telesign number.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from switchboard_provider_sim.africastalking.gateway import Gateway
from switchboard_provider_sim.phone import InboundCall, SimCall
from switchboard_provider_sim.telesign.runner import new_reference_id

DIGITS = re.compile(r"^\+?[1-9]\d{7,14}$")


def status(code: int, value: str) -> JSONResponse:
    return JSONResponse({"status": value}, status_code=code)


def digest_strings(method: str, headers: Mapping[str, str], body: str, resource: str) -> list[str]:
    """The strings a TSA digest may sign (spec §2): ``METHOD\nContent-Type\nDate\nx-ts-auth-method:
    HMAC-SHA256\nx-ts-nonce:<nonce>\n<body>\n<resource>``. The official SDK (telesign 4.1.1) leaves
    the body out when it sends a raw body (``RestClient.post(body=…)``), so the forms without it, and
    with an empty body line, are accepted too (spec §2: "a verifier must accept that")."""
    head = "\n".join(
        [
            method,
            headers.get("content-type", ""),
            headers.get("date", ""),
            "x-ts-auth-method:HMAC-SHA256",
            f"x-ts-nonce:{headers.get('x-ts-nonce', '')}",
        ]
    )
    return [f"{head}\n{body}\n{resource}", f"{head}\n{resource}", f"{head}\n\n{resource}"]


def authorized(
    customer_id: str, api_key: str, method: str, resource: str, headers: Mapping[str, str], raw: bytes
) -> bool:
    """True for ``Authorization: Basic base64(customer_id:api_key)``, or for the HMAC "TSA" digest the
    official SDK sends by default (spec §2): ``Authorization: TSA <customer_id>:<signature>`` with
    ``Date``, ``x-ts-auth-method: HMAC-SHA256`` and ``x-ts-nonce``; the key is the base64-decoded API
    key, the signature base64(HMAC-SHA256) of one of :func:`digest_strings`. The ``Date`` is not
    checked for freshness (the spec gives no window)."""
    scheme, _, value = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "basic":
        expected = base64.b64encode(f"{customer_id}:{api_key}".encode()).decode()
        return hmac.compare_digest(value.strip().encode(), expected.encode())
    if scheme.upper() != "TSA" or headers.get("x-ts-auth-method", "").upper() != "HMAC-SHA256":
        return False
    who, _, presented = value.strip().rpartition(":")
    if who != customer_id or not headers.get("date") or not headers.get("x-ts-nonce"):
        return False
    try:
        key = base64.b64decode(api_key)
        body = raw.decode()
    except (binascii.Error, ValueError):
        return False
    for text in digest_strings(method, headers, body, resource):
        expected = base64.b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).decode()
        if hmac.compare_digest(presented.encode(), expected.encode()):
            return True
    return False


def build_router(gw: Gateway) -> APIRouter:
    router = APIRouter()

    @router.post("/v2/voice", tags=["telesign"])
    async def voice(request: Request) -> Any:
        raw = await request.body()
        if "authorization" not in request.headers:
            return status(401, "credentials_not_provided")
        settings = gw.settings
        if not authorized(settings.ts_customer_id, settings.ts_api_key, "POST", "/v2/voice", request.headers, raw):
            return status(401, "not_authorized")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
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
