"""One simulated Voxology call (``voxology.md`` §1, §3–4): callbacks ``init_call``, ``live_call``
and ``end_call`` in the spec's JSON shape; runs the call-flow actions answered.

Provider-facing actions are carried out (SAY, PLAY, COLLECT, RECORD, TRANSFER, QUEUE, CONFERENCE,
REDIRECT, REJECT, HANGUP, PAUSE, DETECT); CONFERENCE keeps rooms with their participants, refuses a
full one (``max_participants``) and runs its ``events`` in place; COLLECT appends ``{name, digits}`` to ``key_presses``
(``""`` when nothing was pressed) and RECORD appends ``{name, id}`` to ``recordings``. When the
list runs out on a live call, a ``live_call`` goes to the configured URL (capped at 100 per call,
§4 rule 4). Server-side actions (IF, GOTO, FOREACH …) are not run by this simulator: Switchboard
never sends them, so one arriving is reported as an error and the call ends.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from switchboard_provider_sim.phone import CallerHungUp, EndCall, PhoneBase, SimCall

log = structlog.get_logger(__name__)
KEYS = {"pound": "#", "hash": "#", "star": "*"}


def new_call_id() -> str:
    return secrets.token_hex(16)


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class VoxologyRunner(PhoneBase):
    crash_end = EndCall("failed")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rooms: dict[str, int] = {}
        """Conference name → participants in it now (simulated callers and ``seat`` ones)."""

    def seat(self, room: str, participants: int) -> int:
        """Put ``participants`` more (simulated) people in ``room``; returns how many are in it."""
        self.rooms[room] = self.rooms.get(room, 0) + participants
        return self.rooms[room]

    async def conference(self, call: SimCall, action: dict[str, Any], params: dict[str, Any]) -> None:
        """voxology.md §4: join ``params.name`` unless ``max_participants`` are already in it; the
        matching ``events`` list (``on_enter`` or ``on_enter_error_max_participants``) runs in
        place (rule 1); the caller stays until the room's time is up, then the list goes on."""
        room = str(params.get("name", ""))
        events = action.get("events") or {}
        limit = int(params.get("max_participants") or 0)
        if limit and self.rooms.get(room, 0) >= limit:
            self.note(call, "conference-full", name=room, participants=self.rooms.get(room, 0))
            await self.execute(call, list(events.get("on_enter_error_max_participants") or []))
            return
        self.rooms[room] = self.rooms.get(room, 0) + 1
        self.note(call, "conference", name=room, participants=self.rooms[room], event=params.get("event"))
        try:
            await self.execute(call, list(events.get("on_enter") or []))
            await self.pass_time(call, 20.0)
        finally:
            self.rooms[room] -= 1

    async def post(self, call: SimCall, url: str, kind: str, status: str = "live-in-progress") -> httpx.Response:
        started = call.started or datetime.now(UTC)
        body: dict[str, Any] = {
            "type": kind,
            "app_id": "app-sim-0001",
            "subaccount_id": "0",
            "call_id": call.session_id,
            "start_time": iso(started),
            "direction": call.direction.lower(),
            "duration": int(call.sim_s * 1000),
            "status": status,
            "detection": "machine" if call.script.answer == "machine" else "live_person",  # spec §3 assumption
            "caller_no": call.caller_number,
            "caller_no_country": "KE",
            "api_no": call.destination_number,
            "key_presses": call.key_presses,
            "recordings": call.recordings,
            "custom_data": None,
            "session_data": call.session_data or None,
        }
        if kind == "end_call":
            body["end_time"] = iso(started + timedelta(seconds=call.sim_s))
        return await self.http.post(url, json=body, timeout=self.settings.response_timeout_s)

    async def instruct(self, call: SimCall, url: str, kind: str) -> list[dict[str, Any]]:
        call.callbacks += 1
        if call.callbacks > min(100, self.settings.max_callbacks_per_call):
            raise EndCall("failed")
        try:
            resp = await self.post(call, url, kind)
        except httpx.HTTPError as exc:
            call.errors.append(f"callback failed: {exc!r}")
            raise EndCall("failed") from None
        if resp.status_code != 200:
            call.errors.append(f"callback answered {resp.status_code}: {resp.text[:200]}")
            raise EndCall("failed")
        try:
            doc = resp.json()
        except ValueError:
            call.errors.append("callback answered invalid JSON")
            raise EndCall("failed") from None
        actions = doc.get("actions") if isinstance(doc, dict) else None
        if not isinstance(actions, list):
            call.errors.append("callback answered no 'actions' list")
            raise EndCall("failed")
        return actions

    async def _run(self, call: SimCall) -> None:
        if call.direction == "Outbound":
            call.state = "ringing"
            ring = call.script.ring_s if call.script.ring_s is not None else self.settings.ring_s
            await asyncio.sleep(ring / self.settings.speed)
            if call.script.answer not in ("answer", "machine"):
                await self.finish(call, EndCall(call.script.answer))
                return
        call.started = datetime.now(UTC).replace(microsecond=0)
        call.state = "active"
        url = self.settings.vox_callback_url
        try:
            actions = await self.instruct(call, url, "init_call")
            while True:
                next_url = await self.execute(call, actions)
                url = next_url or url
                actions = await self.instruct(call, url, "live_call")
        except CallerHungUp:
            self.note(call, "caller-hangup")
            await self.finish(call, EndCall("completed"))
        except EndCall as end:
            await self.finish(call, end)

    async def execute(self, call: SimCall, actions: list[dict[str, Any]]) -> str | None:
        """Run ``actions``; return a REDIRECT target to call next, or None to call the configured URL."""
        for action in actions:
            kind = str(action.get("type", "")).upper()
            params = action.get("params") or {}
            if kind == "SAY":
                self.note(call, "say", text=str(params.get("text", "")))
                await self.pass_time(call, max(1.0, 0.4 * len(str(params.get("text", "")).split())))
            elif kind == "PLAY":
                self.note(call, "play", url=params.get("url"))
                await self.pass_time(call, 3.0)
            elif kind == "PAUSE":
                await self.pass_time(call, float(params.get("length", 1)))
            elif kind == "DETECT":
                self.note(call, "detect", result="live_person")
            elif kind == "COLLECT":
                await self.collect(call, action, params)
            elif kind == "RECORD":
                for prompt in action.get("actions") or []:
                    await self.execute(call, [prompt])
                await self.pass_time(call, min(float(params.get("max_length") or 8), 8.0))
                rec = {"name": str(action.get("name", "")), "id": secrets.token_hex(6)}
                call.recordings.append(rec)
                self.note(call, "record", **rec)
            elif kind == "TRANSFER":
                self.note(call, "dial", numbers=[params.get("no")])
                await self.pass_time(call, 3.0)
                await self.bridge(call, self.talk_time(call))
                raise EndCall("completed")
            elif kind == "QUEUE":
                self.note(call, "enqueue", name=params.get("name"))
                await self.pass_time(call, self.settings.queue_patience_s)
                raise EndCall("completed")
            elif kind == "CONFERENCE":
                await self.conference(call, action, params)
            elif kind == "REDIRECT":
                self.note(call, "redirect", url=params.get("url"))
                return str(params.get("url"))
            elif kind == "REJECT":
                self.note(call, "reject")
                call.started = None
                raise EndCall("rejected")
            elif kind == "HANGUP":
                raise EndCall("completed")
            else:
                call.errors.append(f"action {kind!r} is not carried out by this simulator")
                raise EndCall("failed")
        return None

    async def collect(self, call: SimCall, action: dict[str, Any], params: dict[str, Any]) -> None:
        for prompt in action.get("actions") or []:
            await self.execute(call, [prompt])
        digits = self.next_digits(call, int(params.get("num_digits") or 1))
        key = KEYS.get(str(params.get("finish_on_key", "")).lower(), str(params.get("finish_on_key", "")))
        if digits:
            await self.pass_time(call, 0.5 * len(digits))
            self.note(call, "digits", digits=digits)
            if key and digits.endswith(key):
                digits = digits[: -len(key)]  # assumption §4 rule 2: the terminator is excluded
        else:
            self.note(call, "no-input")
            await self.pass_time(call, float(params.get("timeout") or 5000) / 1000)
        call.key_presses.append({"name": str(action.get("name", "")), "digits": digits})

    async def finish(self, call: SimCall, end: EndCall) -> None:
        answered = call.started is not None
        call.duration_s = round(call.sim_s) if answered else 0
        call.hangup_cause = end.cause
        call.state = "ended"
        self.note(call, "end", cause=end.cause)
        if not answered:
            call.sim_s = 0
        try:
            await self.post(call, self.settings.vox_callback_url, "end_call", status=end.cause)
        except httpx.HTTPError as exc:
            call.errors.append(f"end_call failed: {exc!r}")
        call.final_posted = True
