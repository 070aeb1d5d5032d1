"""Drive live IVR calls through the simulator while a fault is injected, and read back what each
caller heard and pressed (simulator transcript), what each CDR recorded and what was dead-lettered.

The bank IVR (``flows/ivr.yaml``, number +254711000200): every caller presses 1 and must hear the
balance, then the call hangs up. Figures are printed (``-s`` shows them) for docs/operations.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from switchboard.topics import Topic
from switchboard_devstack.stack import SERVICES, Stack

from .helpers import cdr, read_topic, says

IVR_NUMBER = "+254711000200"
HOLD = "Please hold."
APOLOGY = "Sorry, we cannot take your call right now"
BALANCE = "Your account balance is"
SIM_RESPONSE_TIMEOUT_MS = 5000  # SIM_RESPONSE_TIMEOUT_S default: the simulated AT's reply timeout


@dataclass
class Outcome:
    """One call as the caller lived it and as the platform recorded it."""

    session_id: str
    pressed: list[str]
    heard: list[str]
    waits: list[dict[str, Any]]
    errors: list[str]
    cdr: dict[str, Any] | None

    @property
    def holds(self) -> int:
        return self.heard.count(HOLD)

    @property
    def apology(self) -> bool:
        return any(text.startswith(APOLOGY) for text in self.heard)

    @property
    def balance(self) -> bool:
        return bool(self.heard) and self.heard[-1].startswith(BALANCE)

    @property
    def dead_air(self) -> bool:
        return any(w["outcome"] == "timeout" or w["waited_ms"] >= SIM_RESPONSE_TIMEOUT_MS for w in self.waits)

    @property
    def cdr_inputs(self) -> dict[str, Any]:
        if self.cdr is None:
            return {}
        inputs = self.cdr["inputs"]
        return dict(orjson.loads(inputs) if isinstance(inputs, str | bytes) else inputs)

    @property
    def max_wait_ms(self) -> int:
        return max((w["waited_ms"] for w in self.waits), default=0)


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    dlq: int = 0
    duration_s: float = 0.0
    fault: dict[str, float] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        o = self.outcomes
        return {
            "calls": len(o),
            "balance": sum(x.balance for x in o),
            "heard_hold": sum(x.holds > 0 for x in o),
            "apologies": sum(x.apology for x in o),
            "dead_air": sum(x.dead_air for x in o),
            "max_wait_ms": max((x.max_wait_ms for x in o), default=0),
            "cdrs": sum(x.cdr is not None for x in o),
            "key_presses_lost": len(lost_presses(o)),
            "lost_in_dead_air": sum(x.dead_air for x in lost_presses(o)),
            "dlq": self.dlq,
            "duration_s": round(self.duration_s, 1),
            **{k: round(v, 2) for k, v in self.fault.items()},
        }


def lost_presses(outcomes: list[Outcome]) -> list[Outcome]:
    """Calls whose CDR does not record the key the caller pressed (or records one not pressed)."""
    lost = []
    for x in outcomes:
        expected = {"menu": x.pressed[-1]} if x.pressed else {}
        if x.cdr is None or x.cdr_inputs.get("menu") != expected.get("menu"):
            lost.append(x)
    return lost


async def start_call(http: httpx.AsyncClient, stack: Stack, caller: str) -> str:
    r = await http.post(
        f"{stack.config.sim_url}/sim/inbound", json={"caller": caller, "to": IVR_NUMBER, "digits": ["1"]}
    )
    r.raise_for_status()
    return str(r.json()["session_id"])


async def drive(
    http: httpx.AsyncClient,
    stack: Stack,
    *,
    calls: int,
    rate: float,
    fault: Callable[[], Awaitable[dict[str, float]]],
    fault_after_s: float,
    finish_s: float = 120,
    straddle: bool = False,
) -> Run:
    """Start ``calls`` IVR calls at ``rate`` per second; ``fault_after_s`` after the first, run
    ``fault`` (it returns timings to report). Wait until every call has ended and every CDR has
    landed (or ``finish_s`` passed), then collect outcomes and the call-events DLQ records of these
    calls. ``straddle``: start at most three quarters of the calls before the fault is over and
    the rest after it (however long it lasts), so calls run before, during and after it."""
    run = Run()
    started = time.monotonic()
    prefix = f"+2547{int(time.time() * 1000) % 10**6:06d}"

    async def faulted() -> None:
        await asyncio.sleep(fault_after_s)
        run.fault = await fault()

    fault_task = asyncio.create_task(faulted())
    sids: list[str] = []
    try:
        for i in range(calls):
            if straddle and i == calls * 3 // 4:
                await fault_task
            sids.append(await start_call(http, stack, f"{prefix}{i:04d}"))
            await asyncio.sleep(1 / rate)
        await fault_task
    finally:
        if not fault_task.done():
            fault_task.cancel()
            with contextlib.suppress(BaseException):
                await fault_task
    deadline = time.monotonic() + finish_s
    summaries: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline and len(summaries) < len(sids):
        for sid in sids:
            if sid not in summaries:
                data = (await http.get(f"{stack.config.sim_url}/sim/calls/{sid}")).json()
                if data["final_posted"]:
                    summaries[sid] = data
        await asyncio.sleep(0.3)
    rows: dict[str, dict[str, Any] | None] = {}
    while time.monotonic() < deadline:
        for sid in sids:
            if rows.get(sid) is None:
                rows[sid] = await cdr(stack, f"africastalking:{sid}")
        if all(rows.values()):
            break
        await asyncio.sleep(0.5)
    run.duration_s = time.monotonic() - started
    for sid in sids:
        data = summaries.get(sid) or (await http.get(f"{stack.config.sim_url}/sim/calls/{sid}")).json()
        run.outcomes.append(
            Outcome(
                session_id=sid,
                pressed=[t["digits"] for t in data["transcript"] if t["kind"] == "digits"],
                heard=says(data),
                waits=data.get("waits", []),
                errors=data["errors"] if data["final_posted"] else [*data["errors"], "call never ended"],
                cdr=rows.get(sid),
            )
        )
    keys = {f"africastalking:{sid}".encode() for sid in sids}
    dead = await read_topic(stack, Topic.CALL_EVENTS.dlq, idle_s=1)
    run.dlq = sum(1 for r in dead if r.key in keys)
    return run


async def healthy(stack: Stack, timeout_s: float = 90) -> None:
    """Wait until every part of the stack is up and every service reports ready again (a chaos
    test leaves the shared stack as it found it)."""
    import redis.asyncio as aioredis

    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=3) as http:
        for name, (_, path, port_attr) in SERVICES.items():
            url = stack.config.url(getattr(stack.config, port_attr)) + path
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(url)).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name} not ready again at {url}")
                await asyncio.sleep(0.2)
    client = aioredis.from_url(stack.config.redis_url)
    try:
        assert await client.ping()
    finally:
        await client.aclose()
