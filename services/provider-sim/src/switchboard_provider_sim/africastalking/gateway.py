"""The AT REST API (``africastalking.md`` §2) and the simulator's control API.

- ``POST /call``: form, multipart or JSON; ``apiKey`` header (any casing) and ``username``; ``to``
  comma-separated or a JSON array. 401 plain text for bad credentials, 400 plain text for a
  missing field, else 201 with ``{entries[], errorMessage}``; a malformed number gets
  ``InvalidPhoneNumber`` and ``sessionId: "None"``.
- ``POST /callTransfer``, ``/queueStatus``, ``/mediaUpload`` (201 with ``{"status": "Success",
  "success": true}``: the docs' key and the official SDK's, spec §8).
- Any host is served: the official SDK's sandbox host as well as the live one (spec §8).
- ``/sim/...``: script a phone's behaviour, start an inbound call, read a call's transcript, wait
  until all calls have ended.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from switchboard_provider_sim.africastalking.call import CallRunner
from switchboard_provider_sim.phone import (
    Answer,
    InboundCall,
    Keypad,
    PhoneBase,
    PhoneScript,
    SimCall,
    new_session_id,
    scripted_outcome,
)
from switchboard_provider_sim.settings import SimSettings

E164ISH = re.compile(r"^\+[1-9]\d{7,14}$")


class ScriptIn(BaseModel):
    answer: Answer = "answer"
    digits: list[str] | None = None
    ring_s: float | None = None
    hangup_after_s: float | None = None
    talk_s: float | None = None
    interactive: bool = False
    """A person answers and presses keys through ``POST /sim/phones/{number}/keys`` (the
    console's "call it from the browser"); ``digits`` is then unused."""


class KeysIn(BaseModel):
    digits: str = Field(pattern=r"^[0-9*#]{1,32}$")


class Gateway:
    def __init__(self, settings: SimSettings, runner: CallRunner, others: dict[str, PhoneBase] | None = None) -> None:
        self.settings = settings
        self.runner = runner
        self.runners: dict[str, PhoneBase] = {"africastalking": runner, **(others or {})}
        self.calls: dict[str, SimCall] = {}
        self.scripts: dict[str, PhoneScript] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.rejected: list[dict[str, str]] = []
        self.media: set[str] = set()

    def start(self, call: SimCall) -> None:
        self.calls[call.session_id] = call
        task = asyncio.create_task(self.runners[call.provider].run(call))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def script_for(self, number: str) -> PhoneScript:
        if number in self.scripts:
            return self.scripts[number]
        return PhoneScript(answer=scripted_outcome(self.settings, self.runner.rng))


async def read_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        data = await request.json()
        return data if isinstance(data, dict) else {}
    form = await request.form()
    return {k: v for k, v in form.items()}


def unauthorized(gw: Gateway, request: Request, body: dict[str, Any]) -> PlainTextResponse | None:
    """401 unless the ``apiKey`` header (any casing) and ``username`` match the account (§2)."""
    key = next((v for k, v in request.headers.items() if k.lower() == "apikey"), None)
    if key != gw.settings.at_api_key or body.get("username") != gw.settings.at_username:
        return PlainTextResponse("The supplied authentication is invalid", status_code=401)
    return None


def missing(body: dict[str, Any], *names: str) -> PlainTextResponse | None:
    for name in names:
        if not body.get(name):
            return PlainTextResponse(f"Request is missing required form field '{name}'", status_code=400)
    return None


def build_router(gw: Gateway) -> APIRouter:
    router = APIRouter()

    @router.post("/call", tags=["africastalking"])
    async def call(request: Request) -> Any:
        body = await read_body(request)
        if refused := unauthorized(gw, request, body) or missing(body, "username", "from", "to"):
            return refused
        to = body["to"]
        numbers = [n.strip() for n in (to if isinstance(to, list) else str(to).split(",")) if n.strip()]
        entries = []
        for number in numbers:
            if not E164ISH.match(number):
                entries.append({"phoneNumber": number, "status": "InvalidPhoneNumber", "sessionId": "None"})
                gw.rejected.append({"phoneNumber": number, "status": "InvalidPhoneNumber"})
                continue
            sim = SimCall(
                session_id=new_session_id(),
                direction="Outbound",
                caller_number=number,
                destination_number=str(body["from"]),
                script=gw.script_for(number),
                client_request_id=body.get("clientRequestId") or None,
            )
            gw.start(sim)
            entries.append({"phoneNumber": number, "status": "Queued", "sessionId": sim.session_id})
        return JSONResponse({"entries": entries, "errorMessage": "None"}, status_code=201)

    @router.post("/callTransfer", tags=["africastalking"])
    async def call_transfer(request: Request) -> Any:
        body = await read_body(request)
        if refused := unauthorized(gw, request, body) or missing(body, "sessionId", "phoneNumber"):
            return refused
        sim = gw.calls.get(str(body["sessionId"]))
        leg = str(body.get("callLeg") or "callee")
        if sim is None or sim.state == "ended":
            result = {"status": "Aborted", "errorMessage": "Invalid sessionId"}
        elif not sim.bridged:
            result = {"status": "Aborted", "errorMessage": "Call is not bridged: a transfer needs two legs"}
        elif leg not in ("caller", "callee"):
            result = {"status": "Aborted", "errorMessage": f"Invalid callLeg {leg!r}"}
        else:
            result = {"status": "Success", "errorMessage": "None"}
            task = asyncio.create_task(gw.runner.transfer(sim, str(body["phoneNumber"]), leg))
            gw.tasks.add(task)
            task.add_done_callback(gw.tasks.discard)
        return JSONResponse({"callTransferResponse": result} if gw.settings.transfer_response_wrapped else result)

    @router.post("/queueStatus", tags=["africastalking"])
    async def queue_status(request: Request) -> Any:
        body = await read_body(request)
        if refused := unauthorized(gw, request, body) or missing(body, "phoneNumbers"):
            return refused
        raw = body["phoneNumbers"]
        numbers = [n.strip() for n in (raw if isinstance(raw, list) else str(raw).split(",")) if n.strip()]
        entries = [entry for number in numbers for entry in gw.runner.queues.status(number)]
        return JSONResponse({"status": "Success", "entries": entries, "errorMessage": "None"})

    @router.post("/mediaUpload", tags=["africastalking"])
    async def media_upload(request: Request) -> Any:
        body = await read_body(request)
        if refused := unauthorized(gw, request, body) or missing(body, "phoneNumber", "url"):
            return refused
        url = str(body["url"])
        if not url.startswith(("http://", "https://")) or not url.split("?")[0].lower().endswith((".mp3", ".wav")):
            return PlainTextResponse("url must be an http(s) link to an .mp3 or .wav file", status_code=400)
        gw.media.add(url)
        # spec §8: the docs give {"status": "Success"}, the official SDK's test {"success": true}
        return JSONResponse({"status": "Success", "success": True}, status_code=201)

    @router.put("/sim/phones/{number}", tags=["control"])
    async def script_phone(number: str, script: ScriptIn) -> dict[str, str]:
        gw.scripts[number] = PhoneScript(
            answer=script.answer,
            digits=script.digits,
            ring_s=script.ring_s,
            hangup_after_s=script.hangup_after_s,
            talk_s=script.talk_s,
            keypad=Keypad() if script.interactive else None,
        )
        return {"number": number, "status": "scripted"}

    def keypad_of(number: str) -> Keypad:
        script = gw.scripts.get(number)
        if script is None or script.keypad is None:
            raise HTTPException(404, "no interactive phone with that number")
        return script.keypad

    @router.post("/sim/phones/{number}/keys", tags=["control"])
    async def press_keys(number: str, keys: KeysIn) -> dict[str, str]:
        """The person at an interactive phone presses ``digits`` (buffered until a prompt reads them)."""
        keypad_of(number).press(keys.digits)
        return {"number": number, "pressed": keys.digits}

    @router.post("/sim/phones/{number}/hangup", tags=["control"])
    async def hang_up(number: str) -> dict[str, str]:
        """The person at an interactive phone hangs up (the call ends at its next step)."""
        keypad_of(number).hang_up()
        return {"number": number, "status": "hung up"}

    @router.get("/sim/phones/{number}/calls", tags=["control"])
    async def phone_calls(number: str) -> dict[str, Any]:
        """The calls of the phone ``number`` (the person's side), newest first, with transcripts."""
        mine = [c for c in gw.calls.values() if c.caller_number == number]
        return {"calls": [c.summary() for c in reversed(mine)]}

    @router.post("/sim/inbound", tags=["control"])
    @router.post("/sim/africastalking/inbound", tags=["control"])  # every simulator: /sim/<provider>/inbound
    async def inbound(req: InboundCall) -> dict[str, str]:
        sim = SimCall(
            session_id=new_session_id(),
            direction="Inbound",
            caller_number=req.caller,
            destination_number=req.to,
            script=req.script(),
        )
        gw.start(sim)
        return {"session_id": sim.session_id}

    @router.get("/sim/calls/{session_id}", tags=["control"])
    async def get_call(session_id: str) -> dict[str, Any]:
        if session_id not in gw.calls:
            raise HTTPException(404, "no such call")
        return gw.calls[session_id].summary()

    @router.get("/sim/calls", tags=["control"])
    async def list_calls() -> dict[str, Any]:
        return {"calls": [c.summary() for c in gw.calls.values()]}

    @router.get("/sim/stats", tags=["control"])
    async def stats() -> dict[str, Any]:
        states: dict[str, int] = {}
        for c in gw.calls.values():
            states[c.state] = states.get(c.state, 0) + 1
        return {
            "calls": len(gw.calls),
            "active": len(gw.tasks),
            "by_state": states,
            "rejected": len(gw.rejected),
            "media": sorted(gw.media),
        }

    @router.post("/sim/wait-idle", tags=["control"])
    async def wait_idle(timeout_s: float = 60) -> dict[str, Any]:
        if gw.tasks:
            await asyncio.wait(set(gw.tasks), timeout=timeout_s)
        return {"active": len(gw.tasks)}

    return router
