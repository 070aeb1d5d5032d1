"""One simulated Infobip voice message to one destination (``infobip.md`` §3–5, §9).

The simulated phone rings (``ringTimeout``, the phone script's answer: answer, busy, no-answer);
an unanswered or busy call is tried again on the retry ladder (§4, simulated minutes); an answered
one waits ``pause`` s, plays the text (or the audio file), collects up to ``maxDtmf`` keys from the
script within ``dtmfTimeout`` (``#`` ends early), transfers when a ``callTransfers`` entry matches,
and hangs up. Then one delivery report (v2, §5) is pushed to ``notifyUrl`` (retried after
``SIM_IB_REPORT_RETRIES_MIN`` minutes on a timeout or a non-2xx answer, §9), or kept for one pull
(``GET /voice/1/reports``) when the message has none; a log row is kept either way (§6).
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from switchboard_provider_sim.phone import CallerHungUp, EndCall, PhoneBase, SimCall

log = structlog.get_logger(__name__)

MAX_REPEATS = 5
LADDER_MIN = (1, 2, 5, 10, 20, 30, 60, 120, 240, 480, 960, 1440)
DELIVERED = {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET"}
STATUS: dict[str, tuple[dict[str, Any], int, str]] = {
    "delivered": (DELIVERED, 10000, "NORMAL_HANGUP"),
    "no-answer": ({"groupId": 2, "groupName": "UNDELIVERABLE", "id": 96, "name": "NO_ANSWER"}, 10200, "NO_ANSWER"),
    "busy": ({"groupId": 2, "groupName": "UNDELIVERABLE", "id": 97, "name": "BUSY"}, 10201, "BUSY"),
    "machine": (DELIVERED, 10002, "MACHINE_DETECTED"),
}


def ladder_up(minutes: float) -> int:
    """``minutes`` rounded up to the next ladder value; above 1440 → 1440 (§4 step 2)."""
    return next((v for v in LADDER_MIN if v >= minutes), LADDER_MIN[-1])


def retry_waits(retry: dict[str, Any] | None) -> list[int]:
    """The waits (minutes) before each re-attempt (§4): normalised to the ladder, ``maxCount``
    clamped to 4; equal periods evenly spaced; else the ladder from ``minPeriod`` up to
    ``maxPeriod``, staying there."""
    if not retry:
        return []
    low, high = ladder_up(float(retry.get("minPeriod", 1))), ladder_up(float(retry.get("maxPeriod", 1)))
    high = max(high, low)
    count = max(0, min(4, int(retry.get("maxCount", 0))))
    steps = [v for v in LADDER_MIN if low <= v <= high]
    return [steps[min(k, len(steps) - 1)] for k in range(count)]


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


class InfobipRunner(PhoneBase):
    crash_end = EndCall("no-answer")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.messages: dict[str, dict[str, Any]] = {}  # messageId → the message as sent (+ bulkId, sentAt)
        self.pending: list[dict[str, Any]] = []  # reports kept for one pull, oldest first
        self.logs: list[dict[str, Any]] = []
        self.pull_lock = asyncio.Lock()

    async def _run(self, call: SimCall) -> None:
        message = self.messages[call.session_id]
        if message.get("startDelayS"):  # sendingSpeed: this destination's turn in the bulk
            await asyncio.sleep(float(message["startDelayS"]) / self.settings.speed)
        waits = retry_waits(message.get("retry"))
        for attempt in range(len(waits) + 1):
            call.state = "ringing"
            ring = call.script.ring_s if call.script.ring_s is not None else self.settings.ring_s
            await asyncio.sleep(min(ring, float(message.get("ringTimeout", 45))) / self.settings.speed)
            if call.script.answer in ("answer", "machine"):
                break
            self.note(call, call.script.answer, attempt=attempt + 1)
            if attempt == len(waits):
                await self.finish(call, EndCall(call.script.answer))
                return
            await asyncio.sleep(waits[attempt] * 60 / self.settings.speed)
        call.started = datetime.now(UTC)
        call.state = "active"
        detection = str(message.get("machineDetection") or "").lower()
        if detection in ("hangup", "continue"):  # detection takes at least 4 s (§3.3)
            await self.pass_time(call, 4.0)
            if call.script.answer == "machine":
                self.note(call, "machine-detected")
                call.session_data["answeredBy"] = "MACHINE"
                if detection == "hangup":
                    await self.finish(call, EndCall("machine"))
                    return
            else:
                call.session_data["answeredBy"] = "HUMAN"
        try:
            await self.play(call, message)
        except CallerHungUp:
            self.note(call, "caller-hangup")
        await self.finish(call, EndCall("machine" if call.session_data.get("answeredBy") == "MACHINE" else "delivered"))

    async def play(self, call: SimCall, message: dict[str, Any]) -> None:
        if message.get("pause"):
            await self.pass_time(call, float(message["pause"]))
        call.session_data["dtmfCodes"] = None
        for repeat in range(MAX_REPEATS + 1):
            await self.speak(call, message)
            if not message.get("maxDtmf"):
                break
            digits = self.next_digits(call, int(message["maxDtmf"]))
            digits = digits.split("#", 1)[0][: int(message["maxDtmf"])]
            if digits:
                await self.pass_time(call, 0.5 * len(digits))
                self.note(call, "digits", digits=digits)
            else:
                self.note(call, "no-input")
                await self.pass_time(call, float(message.get("dtmfTimeout", 10)))
            call.session_data["dtmfCodes"] = digits
            if not digits or digits != message.get("repeatDtmf") or repeat == MAX_REPEATS:
                break
            self.note(call, "repeat")  # repeatDtmf: the message again (§3.3, at most 5 times)
        digits = call.session_data["dtmfCodes"] or ""
        if message.get("maxDtmf"):
            for transfer in message.get("callTransfers") or []:
                kind = str(transfer.get("if", "")).lower()
                if (kind == "anydtmf" and digits) or (kind == "dtmf" and digits == str(transfer.get("equals"))):
                    self.note(call, "dial", numbers=[f"+{str(transfer['transferTo']).lstrip('+')}"])
                    await self.bridge(call, self.talk_time(call))
                    break

    async def speak(self, call: SimCall, message: dict[str, Any]) -> None:
        if message.get("audioFileUrl"):
            self.note(call, "play", url=message["audioFileUrl"])
            await self.pass_time(call, 3.0)
        else:
            text = str(message.get("text", ""))
            self.note(call, "say", text=text)
            await self.pass_time(call, max(1.0, 0.4 * len(text.split())) + 0.5 * text.count(","))

    def report(self, call: SimCall, end: EndCall) -> dict[str, Any]:
        message = self.messages[call.session_id]
        status, error_id, error_name = STATUS.get(end.cause, STATUS["no-answer"])
        answered = call.started is not None
        duration = math.ceil(call.sim_s) if answered else 0
        start = call.started or datetime.now(UTC)
        report: dict[str, Any] = {
            "messageId": call.session_id,
            "from": call.destination_number.lstrip("+"),
            "to": call.caller_number.lstrip("+"),
            "sentAt": message["sentAt"],
            "mccMnc": "63902",
            "voiceCall": {
                "feature": "Voice-message",
                "direction": "OUTBOUND",
                "startTime": iso(start),
                "answerTime": iso(start) if answered else None,
                "endTime": iso(start + timedelta(seconds=call.sim_s)),
                "duration": duration,
                "chargedDuration": duration,
                "fileDuration": round(0.4 * len(str(message.get("text", "")).split()), 1),
                "dtmfCodes": call.session_data.get("dtmfCodes") if answered else None,
                "ivr": None,
                **({"answeredBy": call.session_data["answeredBy"]} if call.session_data.get("answeredBy") else {}),
            },
            "price": {
                "pricePerSecond": float(self.settings.ib_price_per_second),
                "currency": self.settings.ib_currency,
            },
            "status": {**status, "description": str(status["name"]).replace("_", " ").capitalize()},
            "error": {
                "groupId": 0 if answered else 2,
                "groupName": "OK" if answered else "USER",
                "id": error_id,
                "name": error_name,
                "description": error_name,
                "permanent": True,
            },
        }
        if message.get("bulkId"):
            report["bulkId"] = message["bulkId"]
        if message.get("callbackData") is not None:
            report["callbackData"] = message["callbackData"]
        return report

    async def finish(self, call: SimCall, end: EndCall) -> None:
        call.duration_s = math.ceil(call.sim_s) if call.started else 0
        call.hangup_cause = end.cause
        call.state = "ended"
        self.note(call, "end", cause=end.cause)
        report = self.report(call, end)
        message = self.messages[call.session_id]
        self.logs.append(
            {
                "bulkId": report.get("bulkId"),
                "messageId": report["messageId"],
                "to": report["to"],
                "from": report["from"],
                "text": message.get("text"),
                "sentAt": report["sentAt"],
                "doneAt": iso(datetime.now(UTC)),
                "duration": report["voiceCall"]["duration"],
                "mccMnc": report["mccMnc"],
                "price": report["price"],
                "status": report["status"],
                "error": report["error"],
            }
        )
        call.amount = str(report["voiceCall"]["chargedDuration"] * float(self.settings.ib_price_per_second))
        if message.get("notifyUrl"):
            await self.push(call, str(message["notifyUrl"]), report)
        else:
            self.pending.append(report)
        call.final_posted = True

    async def push(self, call: SimCall, url: str, report: dict[str, Any]) -> None:
        """POST ``{"results": [report]}``; tried again after each of the retry delays (§9)."""
        for delay in (0.0, *self.settings.ib_report_retries_min):
            if delay:
                await asyncio.sleep(delay * 60 / self.settings.speed)
            call.callbacks += 1
            try:
                resp = await self.http.post(url, json={"results": [report]}, timeout=self.settings.response_timeout_s)
            except httpx.HTTPError as exc:
                call.errors.append(f"report push failed: {exc!r}")
                continue
            if 200 <= resp.status_code < 300:
                return
            call.errors.append(f"report push answered {resp.status_code}: {resp.text[:200]}")
        log.warning("report push given up", message_id=call.session_id)

    async def take_reports(self, limit: int, message_ids: set[str], bulk_ids: set[str]) -> list[dict[str, Any]]:
        """Up to ``limit`` kept reports, oldest first, each served once (§5, fetch-once)."""
        async with self.pull_lock:
            taken: list[dict[str, Any]] = []
            for report in list(self.pending):
                if len(taken) >= limit:
                    break
                if message_ids and report["messageId"] not in message_ids:
                    continue
                if bulk_ids and report.get("bulkId") not in bulk_ids:
                    continue
                taken.append(report)
                self.pending.remove(report)
            return taken
