"""One simulated AT call: rings, answers (or not), runs the platform's XML, posts notifications.

Time is simulated: ``SimClock`` counts call seconds, and real sleeps are those seconds divided by
``SIM_SPEED``; durations and costs are computed from simulated seconds, so a fast test still bills
a realistic 40 s call. Speech takes 0.4 s per word (~150 words a minute).
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import httpx
import structlog

from switchboard_provider_sim.africastalking.xml import BadResponse, parse_response, truthy
from switchboard_provider_sim.phone import CallerHungUp, EndCall, PhoneBase, SimCall
from switchboard_provider_sim.settings import SimSettings

log = structlog.get_logger(__name__)
Answer = Literal["answer", "busy", "no-answer"]


class Queues:
    """AT call queues: callers wait per (number dialled, queue name) until an agent dequeues them."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[str, str], list[SimCall]] = {}

    def join(self, number: str, name: str, call: SimCall) -> None:
        self.waiting.setdefault((number, name), []).append(call)

    def leave(self, call: SimCall) -> None:
        for callers in self.waiting.values():
            if call in callers:
                callers.remove(call)

    def take(self, number: str, name: str | None) -> SimCall | None:
        for (num, queue), callers in self.waiting.items():
            if num == number and (name is None or queue == name) and callers:
                return callers.pop(0)
        return None

    def status(self, number: str) -> list[dict[str, Any]]:
        return [
            {"phoneNumber": num, "queueName": queue, "numCalls": len(callers)}
            for (num, queue), callers in self.waiting.items()
            if num == number and callers
        ]


class CallRunner(PhoneBase):
    """Runs Africa's Talking :class:`SimCall` s against the platform's callback URLs."""

    crash_end = EndCall("UNSPECIFIED", status="Aborted")

    def __init__(self, settings: SimSettings, http: httpx.AsyncClient, rng: random.Random) -> None:
        super().__init__(settings, http, rng)
        self.queues = Queues()

    # --- notifications ------------------------------------------------------------------------
    def base_fields(self, call: SimCall, *, active: bool) -> dict[str, str]:
        return {
            "isActive": "1" if active else "0",
            "sessionId": call.session_id,
            "direction": call.direction,
            "callerNumber": call.caller_number,
            "destinationNumber": call.destination_number,
            "callerCountryCode": call.caller_number.lstrip("+")[:3],
            "callStartTime": at_time(call.started) if call.started else "None",
        }

    async def post(self, url: str, fields: dict[str, str]) -> httpx.Response:
        return await self.http.post(url, data=fields, timeout=self.settings.response_timeout_s)

    async def instruct(self, call: SimCall, url: str, extra: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """POST a live notification and return the parsed actions; EndCall on any failure (§7)."""
        call.callbacks += 1
        if call.callbacks > self.settings.max_callbacks_per_call:
            raise EndCall("UNSPECIFIED", status="Aborted")
        fields = {**self.base_fields(call, active=True), **(extra or {})}
        started = time.monotonic()
        try:
            # spec §7: the response timeout bounds the whole exchange (httpx's bounds each phase)
            async with asyncio.timeout(self.settings.response_timeout_s):
                resp = await self.post(url, fields)
        except (httpx.TimeoutException, TimeoutError) as exc:
            waited = self.waited(call, started, "timeout")
            self.note(call, "dead-air", waited_ms=waited)  # the caller heard nothing, then AT hung up
            call.errors.append(f"callback failed: {exc!r}")
            raise EndCall("UNSPECIFIED", status="Aborted") from None
        except httpx.HTTPError as exc:
            self.waited(call, started, "error")
            call.errors.append(f"callback failed: {exc!r}")
            raise EndCall("UNSPECIFIED", status="Aborted") from None
        self.waited(call, started, str(resp.status_code))
        if resp.status_code != 200:
            call.errors.append(f"callback answered {resp.status_code}: {resp.text[:200]}")
            raise EndCall("UNSPECIFIED", status="Aborted")
        try:
            return parse_response(resp.content)
        except BadResponse as exc:
            call.errors.append(f"bad XML: {exc}")
            raise EndCall("UNSPECIFIED", status="Aborted") from None

    @staticmethod
    def waited(call: SimCall, started: float, outcome: str) -> int:
        """Record how long (real ms) the platform took to answer a live notification."""
        waited = round((time.monotonic() - started) * 1000)
        call.waits.append({"waited_ms": waited, "outcome": outcome})
        return waited

    async def event(self, call: SimCall, fields: dict[str, str]) -> None:
        if not self.settings.at_events_url:
            return
        if call.client_request_id:
            fields = {**fields, "clientRequestId": call.client_request_id}
        try:
            await self.post(self.settings.at_events_url, fields)
        except httpx.HTTPError as exc:
            call.errors.append(f"events URL failed: {exc!r}")

    # --- the call -----------------------------------------------------------------------------
    async def _run(self, call: SimCall) -> None:
        if call.direction == "Outbound":
            call.state = "ringing"
            await self.event(call, {**self.base_fields(call, active=True), "callSessionState": "Ringing"})
            ring = call.script.ring_s if call.script.ring_s is not None else self.settings.ring_s
            await asyncio.sleep(ring / self.settings.speed)
            if call.script.answer == "busy":
                await self.finish(call, EndCall("USER_BUSY", state="NotAnswered", status="NotAnswered"))
                return
            if call.script.answer == "no-answer":
                await self.finish(call, EndCall("NO_ANSWER", state="NotAnswered", status="NotAnswered"))
                return
        call.started = datetime.now(UTC).replace(microsecond=0)
        call.state = "active"
        url = self.settings.at_callback_url
        try:
            actions = await self.instruct(call, url)
            while True:
                outcome = await self.execute(call, actions, url)
                if outcome is None:
                    raise EndCall("NORMAL_CLEARING")
                actions, url = outcome
        except CallerHungUp:
            self.note(call, "caller-hangup")
            await self.finish(call, EndCall("NORMAL_CLEARING"))
        except EndCall as end:
            await self.finish(call, end)

    async def speak(self, call: SimCall, el: dict[str, Any]) -> None:
        if el["tag"] == "Say":
            self.note(call, "say", text=el["text"], voice=el["attrs"].get("voice", "woman"))
            await self.pass_time(call, max(1.0, 0.4 * len(el["text"].split())))
            if truthy(el["attrs"].get("playBeep")):
                self.note(call, "beep")
        else:
            self.note(call, "play", url=el["attrs"]["url"])
            await self.pass_time(call, 3.0)

    async def execute(
        self, call: SimCall, actions: list[dict[str, Any]], url: str
    ) -> tuple[list[dict[str, Any]], str] | None:
        """Run ``actions``; return ``(new actions, callback URL)`` when a notification answered
        with more, or None when the actions ran out."""
        for el in actions:
            tag, attrs = el["tag"], el["attrs"]
            if tag in ("Say", "Play"):
                await self.speak(call, el)
            elif tag == "GetDigits":
                for prompt in el["children"]:
                    await self.speak(call, prompt)
                key = attrs.get("finishOnKey")
                timeout = float(attrs.get("timeout") or 30)
                digits = await self.press(call, int(attrs.get("numDigits") or 1), key, timeout)
                if not digits:
                    self.note(call, "no-input")
                    if call.script.keypad is None:  # a person at a keypad has waited it out already
                        await self.pass_time(call, timeout)
                    continue
                await self.pass_time(call, 0.5 * len(digits))
                self.note(call, "digits", digits=digits)
                if key and digits.endswith(key):
                    digits = digits[: -len(key)]  # spec §8: the terminator is not echoed
                target = attrs.get("callbackUrl") or url
                return await self.instruct(call, target, {"dtmfDigits": digits}), url
            elif tag == "Record":
                if not attrs and not el["children"]:
                    self.note(call, "record", terminal=True)
                    call.recording_url = f"https://sim.recordings.test/{call.session_id}/final.mp3"
                    await self.pass_time(call, 10.0)
                    raise EndCall("NORMAL_CLEARING")
                for prompt in el["children"]:
                    await self.speak(call, prompt)
                length = min(float(attrs.get("maxLength") or 8), 8.0)
                await self.pass_time(call, length)
                rec = f"https://sim.recordings.test/{call.session_id}/{len(call.transcript)}.mp3"
                self.note(call, "record", url=rec)
                return await self.instruct(call, attrs.get("callbackUrl") or url, {"recordingUrl": rec}), url
            elif tag == "Dial":
                numbers = attrs["phoneNumbers"].split(",")
                self.note(call, "dial", numbers=numbers, record=truthy(attrs.get("record")))
                await self.pass_time(call, 3.0)
                talk = self.talk_time(call)
                if attrs.get("maxDuration"):
                    talk = min(talk, float(attrs["maxDuration"]))
                start = datetime.now(UTC).replace(microsecond=0)
                await self.bridge(call, talk)
                call.dial = {
                    "dialDestinationNumber": numbers[0],
                    "dialDurationInSeconds": str(int(talk)),
                    "dialStartTime": at_time(start),
                }
                if truthy(attrs.get("record")):
                    call.recording_url = f"https://sim.recordings.test/{call.session_id}/dial.mp3"
                raise EndCall("NORMAL_CLEARING")
            elif tag == "Redirect":
                self.note(call, "redirect", url=el["text"])
                return await self.instruct(call, el["text"]), el["text"]
            elif tag == "Reject":
                # Spec §4, §8: alone (nothing ran before it) the call is refused without charge;
                # after other elements (AT's example app: <Say>…</Say><Reject/>) they ran, the
                # call was answered, and it now ends and is billed for its time.
                self.note(call, "reject")
                if call.sim_s == 0:
                    call.started = None
                raise EndCall("CALL_REJECTED", state="Completed", status="Aborted")
            elif tag == "Enqueue":
                await self.enqueue(call, attrs)
            elif tag == "Dequeue":
                await self.dequeue(call, attrs)
            elif tag == "Conference":
                self.note(call, "conference", **attrs)
                await self.pass_time(call, 20.0)
                raise EndCall("NORMAL_CLEARING")
        return None

    async def enqueue(self, call: SimCall, attrs: dict[str, str]) -> None:
        """Wait in the queue with hold music until dequeued (then talk), or give up after
        ``SIM_QUEUE_PATIENCE_S``. Enqueue is terminal either way (spec §4)."""
        name = attrs.get("name", "")
        self.note(call, "enqueue", **attrs)
        self.queues.join(call.destination_number, name, call)
        started = asyncio.get_running_loop().time()
        try:
            await asyncio.wait_for(call.connected.wait(), self.settings.queue_patience_s / self.settings.speed)
        except TimeoutError:
            self.queues.leave(call)
            call.sim_s += self.settings.queue_patience_s
            self.note(call, "queue-gave-up")
            raise EndCall("NORMAL_CLEARING") from None
        call.sim_s += (asyncio.get_running_loop().time() - started) * self.settings.speed
        self.note(call, "dequeued", agent=call.partner)
        await self.bridge(call, self.talk_time(call))
        raise EndCall("NORMAL_CLEARING")

    async def dequeue(self, call: SimCall, attrs: dict[str, str]) -> None:
        """Connect this call (an agent) to the head of the queue; an empty queue hangs up."""
        self.note(call, "dequeue", **attrs)
        caller = self.queues.take(attrs["phoneNumber"], attrs.get("name"))
        if caller is None:
            self.note(call, "queue-empty")
            raise EndCall("NORMAL_CLEARING")
        caller.partner = call.caller_number
        call.partner = caller.caller_number
        caller.connected.set()
        self.note(call, "connected", caller=caller.caller_number)
        await self.bridge(call, self.talk_time(caller))
        raise EndCall("NORMAL_CLEARING")

    async def transfer(self, call: SimCall, number: str, leg: str) -> None:
        """The transfer events AT posts to the events URL (spec §3.3)."""
        self.note(call, "transfer", to=number, leg=leg)
        base = {
            **self.base_fields(call, active=True),
            "status": "Success",
            "callTransferParam": f"{number}:{int(call.sim_s)}",
            "callTransferredToNumber": number,
        }
        await self.event(call, {**base, "callSessionState": "Transferred", "callTransferState": "Active"})
        await asyncio.sleep(1 / self.settings.speed)
        await self.event(call, {**base, "callSessionState": "TransferCompleted", "callTransferState": "Completed"})

    async def finish(self, call: SimCall, end: EndCall) -> None:
        """The final ``isActive=0`` notification with duration, cost and hangup cause."""
        answered = call.started is not None
        call.duration_s = round(call.sim_s) if answered else 0
        rate = Decimal(self.settings.rate_per_minute)
        amount = (rate * call.duration_s / 60).quantize(Decimal("0.001"), ROUND_HALF_UP) if answered else Decimal(0)
        call.amount = f"{amount}"
        call.hangup_cause = end.cause
        call.state = "ended"
        fields = {
            **self.base_fields(call, active=False),
            "durationInSeconds": str(call.duration_s),
            "currencyCode": self.settings.currency,
            "amount": call.amount,
            "callSessionState": end.state,
            "status": end.status,
            "hangupCause": end.cause,
            "callerCarrierName": self.settings.carrier,
            **call.dial,
        }
        if call.recording_url:
            fields["recordingUrl"] = call.recording_url
        self.note(call, "end", cause=end.cause)
        try:
            await self.post(self.settings.at_callback_url, fields)
        except httpx.HTTPError as exc:
            call.errors.append(f"final notification failed: {exc!r}")
        if self.settings.final_to_events_url:
            await self.event(call, fields)
        call.final_posted = True


def at_time(value: datetime) -> str:
    """``YYYY-MM-DD+HH:MM:SS`` as AT writes it (spec §8)."""
    return value.strftime("%Y-%m-%d+%H:%M:%S")
