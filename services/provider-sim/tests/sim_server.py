"""The simulator served for real on a free loopback port, in a thread of the test process, with a
small "platform" beside it on the same server: ``/hooks/at`` and ``/hooks/telesign`` record every
notification or event (raw body and headers) and answer with what the test scripted.

Only the simulator runs (no Kafka, Redis or PostgreSQL), so these tests carry no ``integration``
marker. Sync tests drive it with blocking clients (the official SDKs use ``requests``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import Request, Response

from switchboard_devstack.stack import free_port
from switchboard_provider_sim.app import build_app
from switchboard_provider_sim.settings import SimSettings

AT_KEY = "sim-api-key"
TS_CUSTOMER = "SIM-CUSTOMER-0001"
TS_KEY = "c2ltLXRlbGVzaWduLWFwaS1rZXktMTIzNDU2Nzg5MA=="


@dataclass
class Hooked:
    """One request the simulator made to the platform."""

    path: str
    headers: dict[str, str]
    raw: bytes
    form: dict[str, str] = field(default_factory=dict)


@dataclass
class RunningSim:
    url: str
    settings: SimSettings
    received: list[Hooked]
    at_reply: Callable[[dict[str, str]], str]
    ts_reply: Callable[[dict[str, Any]], Any]
    ib_status: list[int] = field(default_factory=list)
    """HTTP statuses the Infobip report hook answers in turn (then 200)."""

    def wait_idle(self, timeout_s: float = 20) -> None:
        resp = httpx.post(f"{self.url}/sim/wait-idle", params={"timeout_s": timeout_s}, timeout=timeout_s + 5)
        assert resp.json()["active"] == 0, "simulated calls still running"

    def call(self, session_id: str) -> dict[str, Any]:
        return httpx.get(f"{self.url}/sim/calls/{session_id}").raise_for_status().json()

    def at_final(self, session_id: str) -> dict[str, str]:
        (final,) = [
            h.form for h in self.received if h.form.get("sessionId") == session_id and h.form["isActive"] == "0"
        ]
        return final


def _at_default(fields: dict[str, str]) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello.</Say></Response>'


def _ts_default(event: dict[str, Any]) -> Any:
    return {"jsonrpc": "2.0", "method": "hangup", "params": {}}


@contextmanager
def running_sim(**overrides: Any) -> Iterator[RunningSim]:
    """Serve the simulator (``SimSettings`` overridden by ``overrides``) until the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    values: dict[str, Any] = {
        "at_username": "sandbox",
        "at_api_key": AT_KEY,
        "at_callback_url": f"{url}/hooks/at",
        "at_events_url": None,
        "ts_customer_id": TS_CUSTOMER,
        "ts_api_key": TS_KEY,
        "ts_webhook_url": f"{url}/hooks/telesign",
        "speed": 1000.0,
        "ring_s": 1.0,
        **overrides,
    }
    settings = SimSettings(**values)
    app = build_app(settings)
    sim = RunningSim(url=url, settings=settings, received=[], at_reply=_at_default, ts_reply=_ts_default)

    @app.post("/hooks/at", include_in_schema=False)
    async def at_hook(request: Request) -> Response:
        raw = await request.body()
        form = {k: str(v) for k, v in (await request.form()).items()}
        sim.received.append(Hooked("/hooks/at", dict(request.headers), raw, form))
        if form.get("isActive") == "0":
            return Response(status_code=200)
        return Response(sim.at_reply(form), media_type="application/xml")

    @app.post("/hooks/at/{name}", include_in_schema=False)
    async def at_named_hook(name: str, request: Request) -> Response:
        raw = await request.body()
        form = {k: str(v) for k, v in (await request.form()).items()}
        sim.received.append(Hooked(f"/hooks/at/{name}", dict(request.headers), raw, form))
        return Response(sim.at_reply(form), media_type="application/xml")

    @app.post("/hooks/infobip", include_in_schema=False)
    async def ib_hook(request: Request) -> Response:
        raw = await request.body()
        sim.received.append(Hooked("/hooks/infobip", dict(request.headers), raw))
        return Response(status_code=sim.ib_status.pop(0) if sim.ib_status else 200)

    @app.post("/hooks/telesign", include_in_schema=False)
    async def ts_hook(request: Request) -> Response:
        import orjson

        raw = await request.body()
        sim.received.append(Hooked("/hooks/telesign", dict(request.headers), raw))
        event = orjson.loads(raw)
        answer = None if event.get("event") == "call_completed" else sim.ts_reply(event)
        return Response(orjson.dumps(answer) if answer is not None else b"", media_type="application/json")

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name=f"provider-sim:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the provider simulator did not start")
        time.sleep(0.02)
    try:
        yield sim
    finally:
        server.should_exit = True
        thread.join(timeout=15)
