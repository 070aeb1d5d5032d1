"""What every simulated provider shares: the simulated person (a phone script), the call record
with its transcript, and simulated time.

Time is simulated: ``SimCall.sim_s`` counts call seconds and real sleeps are those seconds divided
by ``SIM_SPEED``; durations and costs come from simulated seconds, so a fast test still bills a
realistic call. Speech takes 0.4 s per word (~150 words a minute).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx
import structlog
from pydantic import BaseModel

from switchboard_provider_sim.settings import SimSettings

Answer = Literal["answer", "busy", "no-answer", "machine"]
"""``machine``: an answering machine picks up (providers with detection report it; the others
play to it as to a person)."""
log = structlog.get_logger(__name__)


class CallerHungUp(Exception):
    pass


class Keypad:
    """A person at a keypad (the console's "call it from the browser"): keys pressed are buffered
    as a phone buffers DTMF, and read by the call's next digit prompt in real seconds (not
    simulated ones: a person is pressing them). :meth:`hang_up` ends the call at its next step."""

    HANGUP = "hangup"

    def __init__(self) -> None:
        self.keys: asyncio.Queue[str] = asyncio.Queue()
        self.hung_up = False

    def press(self, digits: str) -> None:
        for key in digits:
            self.keys.put_nowait(key)

    def hang_up(self) -> None:
        self.hung_up = True
        self.keys.put_nowait(self.HANGUP)

    async def collect(self, count: int, finish_on_key: str | None, timeout_s: float) -> str:
        """Keys until ``count`` of them, ``finish_on_key`` (included, as a phone sends it), or
        ``timeout_s`` real seconds without a key; ``""`` when none came. Raises
        :class:`CallerHungUp` when the person hangs up."""
        digits = ""
        while True:
            try:
                key = await asyncio.wait_for(self.keys.get(), timeout_s)
            except TimeoutError:
                return digits
            if key == self.HANGUP:
                raise CallerHungUp()
            digits += key
            if (finish_on_key and key == finish_on_key) or (not finish_on_key and len(digits) >= count):
                return digits


@dataclass
class PhoneScript:
    """How a simulated person behaves. ``digits``: what to press at each GetDigits in turn (``""``
    = press nothing); past the list, random keys from ``SIM_DIGITS``. ``hangup_after_s``: the
    person hangs up after this many call seconds. ``keypad``: a real person presses the keys
    instead (``digits`` is then unused)."""

    answer: Answer = "answer"
    digits: list[str] | None = None
    ring_s: float | None = None
    hangup_after_s: float | None = None
    talk_s: float | None = None  # how long a bridged conversation (Dial, a dequeued caller) lasts
    keypad: Keypad | None = None


class EndCall(Exception):
    def __init__(self, cause: str, *, state: str = "Completed", status: str = "Success") -> None:
        super().__init__(cause)
        self.cause = cause
        self.state = state
        self.status = status


@dataclass
class SimCall:
    session_id: str
    direction: Literal["Inbound", "Outbound"]
    caller_number: str  # the phone user
    destination_number: str  # the AT number
    script: PhoneScript
    client_request_id: str | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    callbacks: int = 0
    sim_s: float = 0.0
    started: datetime | None = None
    state: str = "queued"
    hangup_cause: str | None = None
    duration_s: int = 0
    amount: str = "0"
    dial: dict[str, str] = field(default_factory=dict)
    recording_url: str | None = None
    final_posted: bool = False
    digit_index: int = 0
    bridged: bool = False
    provider: str = "africastalking"
    session_data: dict[str, Any] = field(default_factory=dict)
    key_presses: list[dict[str, str]] = field(default_factory=list)
    recordings: list[dict[str, str]] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    partner: str | None = None
    received_at: float = field(default_factory=time.time)
    """When the call request reached the simulator (real seconds since the epoch): what a
    provider's CPS limit counts."""
    waits: list[dict[str, Any]] = field(default_factory=list)
    """Per live notification: real ms until the platform answered, and the outcome (the HTTP
    status, ``timeout`` past ``SIM_RESPONSE_TIMEOUT_S``: dead air, or ``error``)."""

    def summary(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "direction": self.direction,
            "caller_number": self.caller_number,
            "destination_number": self.destination_number,
            "client_request_id": self.client_request_id,
            "state": self.state,
            "hangup_cause": self.hangup_cause,
            "duration_s": self.duration_s,
            "amount": self.amount,
            "callbacks": self.callbacks,
            "errors": self.errors,
            "final_posted": self.final_posted,
            "bridged": self.bridged,
            "transcript": self.transcript,
            "waits": self.waits,
            "received_at": self.received_at,
        }


def new_session_id() -> str:
    """An Africa's Talking session id (``ATVId_…``)."""
    return f"ATVId_{secrets.token_hex(12)}"


class PhoneBase:
    """Simulated time, transcript notes and the simulated person's key presses."""

    def __init__(self, settings: SimSettings, http: httpx.AsyncClient, rng: random.Random) -> None:
        self.settings = settings
        self.http = http
        self.rng = rng

    crash_end: EndCall = EndCall("UNSPECIFIED")
    """How a call ends when the simulator itself fails (each provider's own words)."""

    async def run(self, call: SimCall) -> None:
        """Play the whole call; never raises: a crash still ends the call with a final callback."""
        try:
            await self._run(call)
        except Exception as exc:
            log.exception("simulated call crashed", provider=call.provider, session_id=call.session_id)
            call.errors.append(f"simulator error: {exc!r}")
            if not call.final_posted:
                await self.finish(call, self.crash_end)

    async def _run(self, call: SimCall) -> None:
        raise NotImplementedError

    async def finish(self, call: SimCall, end: EndCall) -> None:
        """Send the provider's final notification for ``call``."""
        raise NotImplementedError

    def talk_time(self, call: SimCall) -> float:
        return call.script.talk_s if call.script.talk_s is not None else float(self.rng.randint(5, 15))

    async def bridge(self, call: SimCall, seconds: float) -> None:
        """A two-party conversation: the call can be transferred while it lasts (spec §2.2)."""
        call.bridged = True
        try:
            await self.pass_time(call, seconds)
        finally:
            call.bridged = False

    # --- time ---------------------------------------------------------------------------------
    async def pass_time(self, call: SimCall, seconds: float) -> None:
        if call.script.keypad is not None and call.script.keypad.hung_up:
            raise CallerHungUp()
        if call.script.hangup_after_s is not None and call.sim_s + seconds >= call.script.hangup_after_s:
            await asyncio.sleep(max(0.0, call.script.hangup_after_s - call.sim_s) / self.settings.speed)
            call.sim_s = call.script.hangup_after_s
            raise CallerHungUp()
        call.sim_s += seconds
        await asyncio.sleep(seconds / self.settings.speed)

    def note(self, call: SimCall, kind: str, **data: Any) -> None:
        call.transcript.append({"t": round(call.sim_s, 2), "kind": kind, **data})

    async def press(self, call: SimCall, count: int, finish_on_key: str | None, timeout_s: float) -> str:
        """The keys the person presses at a digit prompt: from the keypad when a person holds
        one (waiting up to ``timeout_s`` real seconds), else :meth:`next_digits`."""
        if call.script.keypad is not None:
            return await call.script.keypad.collect(count, finish_on_key, timeout_s)
        return self.next_digits(call, count)

    def next_digits(self, call: SimCall, count: int = 1) -> str:
        script = call.script.digits
        if script is not None and call.digit_index < len(script):
            digits = script[call.digit_index]
        elif self.rng.random() < self.settings.no_input_chance:
            digits = ""
        else:
            digits = "".join(self.rng.choice(self.settings.digits) for _ in range(count))
        call.digit_index += 1
        return digits


def scripted_outcome(settings: SimSettings, rng: random.Random) -> Answer:
    roll = rng.random()
    if roll < settings.answer_ratio:
        return "answer"
    if roll < settings.answer_ratio + settings.busy_ratio:
        return "busy"
    return "no-answer"


class InboundCall(BaseModel):
    """``POST /sim/…/inbound``: ``caller`` dials ``to``; ``digits`` to press in turn; the caller
    hangs up after ``hangup_after_s``; a bridged conversation lasts ``talk_s`` (simulated seconds)."""

    caller: str
    to: str
    digits: list[str] | None = None
    hangup_after_s: float | None = None
    talk_s: float | None = None

    def script(self) -> PhoneScript:
        return PhoneScript(digits=self.digits, hangup_after_s=self.hangup_after_s, talk_s=self.talk_s)
