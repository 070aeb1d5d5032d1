"""The Infobip REST API the platform uses (``infobip.md`` §2–6).

- ``POST /tts/3/advanced`` (§3.3), ``/tts/3/multi`` (§3.2), ``/tts/3/single`` (§3.1): auth
  ``Authorization: App <key>`` (401 with the ``requestError`` envelope otherwise); each destination
  becomes a simulated call whose session id is its ``messageId`` (the one given, else generated);
  the send response lists each with ``PENDING_ACCEPTED``, or ``REJECTED_MESSAGE_IS_EMPTY`` (55)
  for a message with neither text nor audio; ``bulkId`` only with more than one destination (§3.4);
  ``sendingSpeed`` spaces the request's calls (the k-th starts k / speed simulated seconds later).
  ``single`` and ``multi`` carry no ``notifyUrl``: their reports are kept for a pull.
- ``GET /voice/1/reports`` (§5): kept reports, each served once, oldest first, ``limit`` (50,
  at most 1000), filtered by ``messageId``/``bulkId``.
- ``GET /tts/3/logs`` (§6): every finished message (not fetch-once), newest first, filtered by
  ``messageId``/``bulkId`` (repeatable, OR within, AND across) and ``sentSince``.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from switchboard_provider_sim.africastalking.gateway import Gateway
from switchboard_provider_sim.infobip.runner import InfobipRunner, iso
from switchboard_provider_sim.phone import SimCall

DIGITS = re.compile(r"^\d{6,15}$")
ACCEPTED = {
    "groupId": 1,
    "groupName": "PENDING",
    "id": 26,
    "name": "PENDING_ACCEPTED",
    "description": "Message accepted, pending for delivery.",
}
EMPTY = {
    "groupId": 5,
    "groupName": "REJECTED",
    "id": 55,
    "name": "REJECTED_MESSAGE_IS_EMPTY",
    "description": "Message is empty.",
}
INVALID_TO = {
    "groupId": 5,
    "groupName": "REJECTED",
    "id": 51,
    "name": "REJECTED_DESTINATION",
    "description": "Invalid destination address.",
}


def request_error(status: int, message_id: str, text: str) -> JSONResponse:
    return JSONResponse({"requestError": {"serviceException": {"messageId": message_id, "text": text}}}, status)


UNIT_S = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def per_second(sending_speed: Any) -> float:
    """Calls per second a message's ``sendingSpeed`` (``{speed, timeUnit}``, §3.3) allows; no
    limit (``inf``) without one."""
    if not isinstance(sending_speed, dict) or not sending_speed.get("speed"):
        return float("inf")
    return float(sending_speed["speed"]) / UNIT_S.get(str(sending_speed.get("timeUnit", "second")).lower(), 1)


def parse_since(value: str) -> datetime:
    text = value.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def build_router(gw: Gateway) -> APIRouter:
    router = APIRouter()
    runner = gw.runners["infobip"]
    assert isinstance(runner, InfobipRunner)

    def authorized(request: Request) -> bool:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        return scheme == "App" and hmac.compare_digest(key.strip().encode(), gw.settings.ib_api_key.encode())

    def send(messages: list[dict[str, Any]], bulk_id: str | None) -> JSONResponse:
        total = sum(len(m.get("destinations") or []) for m in messages)
        bulk_id = bulk_id or (f"bulk-{secrets.token_hex(8)}" if total > 1 else None)
        answer: list[dict[str, Any]] = []
        started = 0  # destinations of this request started so far (sendingSpeed spaces them)
        for message in messages:
            for dest in message.get("destinations") or []:
                to = str(dest.get("to") or "").lstrip("+")
                message_id = str(dest.get("messageId") or secrets.token_hex(12))
                entry = {"to": to, "messageId": message_id, "status": ACCEPTED}
                if not DIGITS.match(to):
                    entry["status"] = INVALID_TO
                elif not (message.get("text") or message.get("audioFileUrl")):
                    entry["status"] = EMPTY
                else:
                    delay_s = started / per_second(message.get("sendingSpeed"))
                    started += 1
                    runner.messages[message_id] = {
                        **message,
                        "bulkId": bulk_id,
                        "sentAt": iso(datetime.now(UTC)),
                        "startDelayS": delay_s,
                    }
                    number = f"+{to}"
                    gw.start(
                        SimCall(
                            session_id=message_id,
                            direction="Outbound",
                            caller_number=number,
                            destination_number=f"+{str(message.get('from') or '').lstrip('+')}",
                            script=gw.script_for(number),
                            provider="infobip",
                            client_request_id=message_id,
                        )
                    )
                answer.append(entry)
        body: dict[str, Any] = {"messages": answer}
        if bulk_id:
            body["bulkId"] = bulk_id
        return JSONResponse(body)

    async def body_of(request: Request) -> dict[str, Any] | None:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        return body if isinstance(body, dict) else None

    @router.post("/tts/3/advanced", tags=["infobip"])
    async def advanced(request: Request) -> JSONResponse:
        if not authorized(request):
            return request_error(401, "UNAUTHORIZED", "Invalid login details")
        body = await body_of(request)
        if body is None or not isinstance(body.get("messages"), list):
            return request_error(400, "BAD_REQUEST", "messages: must not be empty")
        return send([m for m in body["messages"] if isinstance(m, dict)], body.get("bulkId"))

    @router.post("/tts/3/multi", tags=["infobip"])
    async def multi(request: Request) -> JSONResponse:
        if not authorized(request):
            return request_error(401, "UNAUTHORIZED", "Invalid login details")
        body = await body_of(request)
        if body is None or not isinstance(body.get("messages"), list):
            return request_error(400, "BAD_REQUEST", "messages: must not be empty")
        messages = [
            {
                **{k: v for k, v in m.items() if k not in ("to", "notifyUrl")},
                "destinations": [{"to": t} for t in m.get("to") or []],
            }
            for m in body["messages"]
            if isinstance(m, dict)
        ]
        return send(messages, None)

    @router.post("/tts/3/single", tags=["infobip"])
    async def single(request: Request) -> JSONResponse:
        if not authorized(request):
            return request_error(401, "UNAUTHORIZED", "Invalid login details")
        body = await body_of(request)
        if body is None or not body.get("to"):
            return request_error(400, "BAD_REQUEST", "to: must not be empty")
        message = {k: v for k, v in body.items() if k not in ("to", "notifyUrl")}  # single drops notifyUrl (§3.1)
        return send([{**message, "destinations": [{"to": body["to"]}]}], None)

    @router.get("/voice/1/reports", tags=["infobip"])
    async def reports(request: Request) -> JSONResponse:
        if not authorized(request):
            return request_error(401, "UNAUTHORIZED", "Invalid login details")
        query = request.query_params
        limit = max(1, min(1000, int(query.get("limit") or 50)))
        taken = await runner.take_reports(limit, set(query.getlist("messageId")), set(query.getlist("bulkId")))
        return JSONResponse({"results": taken})

    @router.get("/tts/3/logs", tags=["infobip"])
    async def logs(request: Request) -> JSONResponse:
        if not authorized(request):
            return request_error(401, "UNAUTHORIZED", "Invalid login details")
        query = request.query_params
        ids, bulks = set(query.getlist("messageId")), set(query.getlist("bulkId"))
        since = parse_since(query["sentSince"]) if query.get("sentSince") else None
        rows = [
            row
            for row in reversed(runner.logs)
            if (not ids or row["messageId"] in ids)
            and (not bulks or row.get("bulkId") in bulks)
            and (since is None or parse_since(row["sentAt"]) >= since)
        ]
        return JSONResponse({"results": rows[: max(1, min(1000, int(query.get("limit") or 50)))]})

    return router
