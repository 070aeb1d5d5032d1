"""One simulated Telesign call (``telesign.md`` §3–5).

Events are POSTed to the webhook signed as the spec says (HMAC-SHA256 of the raw body with the
base64-decoded API key; ``Authorization: TSA <customer_id>:<sig>`` and ``X-TS-Authorization``, or
with ``SIM_TS_SIGNATURE_FORM=sdk`` the bare signature in ``Authorization`` alone, §5), unless
``SIM_TS_SIGN`` is off. Each reply carries one action, as an object or a one-element array
(official demos send both; a longer array runs its first element). ``speak`` with
``collect_digits`` answers ``speak_completed`` with ``collected_digits``; ``dial`` bridges and then
sends ``call_leg_completed``; ``hangup`` ends with ``call_completed``. No action: the call idles
and the simulator hangs up after 30 s (the spec's assumption).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import structlog

from switchboard_provider_sim.phone import CallerHungUp, EndCall, PhoneBase, SimCall

log = structlog.get_logger(__name__)


def new_reference_id() -> str:
    return secrets.token_hex(16).upper()


def utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def digits_only(number: str) -> str:
    return number.lstrip("+")


class TelesignRunner(PhoneBase):
    crash_end = EndCall("hangup")

    def sign(self, raw: bytes) -> dict[str, str]:
        key = base64.b64decode(self.settings.ts_api_key)
        sig = base64.b64encode(hmac.new(key, raw, hashlib.sha256).digest()).decode()
        if self.settings.ts_signature_form == "sdk":  # what the SDK's verify_telesign_callback_signature checks
            return {"Authorization": sig}
        return {"Authorization": f"TSA {self.settings.ts_customer_id}:{sig}", "X-TS-Authorization": sig}

    def parties(self, call: SimCall) -> dict[str, str]:
        if call.direction == "Inbound":
            return {"to": digits_only(call.destination_number), "from": digits_only(call.caller_number)}
        return {"to": digits_only(call.caller_number), "from": digits_only(call.destination_number)}

    async def event(self, call: SimCall, name: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """POST one event; return the action answered (None: no action)."""
        body: dict[str, Any] = {"event": name, "reference_id": call.session_id, "data": data}
        if call.client_request_id:
            body["external_id"] = call.client_request_id
        raw = orjson.dumps(body)
        headers = {"Content-Type": "application/json", **(self.sign(raw) if self.settings.ts_sign else {})}
        call.callbacks += 1
        if call.callbacks > self.settings.max_callbacks_per_call and name != "call_completed":
            call.errors.append(f"more than {self.settings.max_callbacks_per_call} events: hanging up")
            raise EndCall("hangup")  # call_completed itself must still go out
        try:
            resp = await self.http.post(
                self.settings.ts_webhook_url, content=raw, headers=headers, timeout=self.settings.response_timeout_s
            )
        except httpx.HTTPError as exc:
            call.errors.append(f"{name} failed: {exc!r}")
            return None  # spec §6: a timeout counts as "no action"
        if resp.status_code != 200:
            call.errors.append(f"{name} answered {resp.status_code}: {resp.text[:200]}")
            return None
        try:
            answer = resp.json() if resp.content.strip() else None
        except ValueError:
            call.errors.append(f"{name} answered invalid JSON")
            return None
        if isinstance(answer, list):
            if len(answer) > 1:
                log.warning("more than one action in a reply; running the first", count=len(answer))
            answer = answer[0] if answer else None
        return answer if isinstance(answer, dict) and answer.get("method") else None

    async def _run(self, call: SimCall) -> None:
        if call.direction == "Outbound":
            call.state = "ringing"
            ring = call.script.ring_s if call.script.ring_s is not None else self.settings.ring_s
            await asyncio.sleep(ring / self.settings.speed)
            answers = {"answer": "answered", "machine": "answered", "busy": "busy", "no-answer": "no_answer"}
            status = answers[call.script.answer]
            if status != "answered":
                await self.event(call, "dial_completed", {**self.parties(call), "status": status})
                await self.finish(call, EndCall(status))
                return
            call.started = datetime.now(UTC)
            call.state = "active"
            action = await self.event(call, "dial_completed", {**self.parties(call), "status": "answered"})
        else:
            call.started = datetime.now(UTC)
            call.state = "active"
            action = await self.event(call, "incoming_call", self.parties(call))
        try:
            while True:
                action = await self.perform(call, action)
        except CallerHungUp:
            self.note(call, "caller-hangup")
            await self.finish(call, EndCall("hangup"))
        except EndCall as end:
            await self.finish(call, end)

    async def perform(self, call: SimCall, action: dict[str, Any] | None) -> dict[str, Any] | None:
        if action is None:
            self.note(call, "idle")
            await self.pass_time(call, 30.0)
            raise EndCall("hangup")
        method = str(action.get("method"))
        params = action.get("params") or {}
        if method == "speak":
            text = str((params.get("tts") or {}).get("message", ""))
            if text:
                self.note(call, "say", text=text)
                await self.pass_time(call, max(1.0, 0.4 * len(text.split())))
            data: dict[str, Any] = {"status": "speak_successful"}
            if "collect_digits" in params:
                digits = self.next_digits(call, int((params.get("collect_digits") or {}).get("max") or 1))
                if digits:
                    await self.pass_time(call, 0.5 * len(digits))
                    self.note(call, "digits", digits=digits)
                else:
                    self.note(call, "no-input")
                    await self.pass_time(call, 5.0)
                data["collected_digits"] = digits
            return await self.event(call, "speak_completed", data)
        if method in ("play", "play_multiple"):
            self.note(call, "play", url=params.get("url"))
            await self.pass_time(call, 3.0)
            return await self.event(call, "play_completed", {"status": "play_successful"})
        if method == "dial":
            self.note(call, "dial", numbers=[f"+{params.get('to')}"])
            await self.pass_time(call, 3.0)
            await self.bridge(call, self.talk_time(call))
            return await self.event(call, "call_leg_completed", {"to": params.get("to")})
        if method in ("hangup", "hang_up"):
            raise EndCall("hangup")
        call.errors.append(f"unsupported_call_state: {method}")
        log.warning("unsupported action", method=method)
        return None

    async def finish(self, call: SimCall, end: EndCall) -> None:
        answered = call.started is not None
        call.duration_s = round(call.sim_s) if answered else 0
        call.hangup_cause = end.cause
        call.state = "ended"
        self.note(call, "end", cause=end.cause)
        created = call.started or datetime.now(UTC)
        data: dict[str, Any] = {
            **self.parties(call),
            "direction": call.direction.lower(),
            "status": end.cause,
            "duration": call.duration_s,
            "created_on_utc": utc(created),
            "answered_on_utc": utc(created) if answered else None,
            "ended_on_utc": utc(created + timedelta(seconds=call.sim_s)),
            "audio_recording_file_name": None,
            "session_info": {},
        }
        await self.event(call, "call_completed", data)
        call.final_posted = True
