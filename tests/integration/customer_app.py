"""A customer's application for the dynamic-flow tests: served on a free port in the test process,
called by the real flow-runner over loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from switchboard_devstack import testing


def build(received: list[dict[str, Any]], base: dict[str, str]) -> FastAPI:
    app = FastAPI()

    @app.post("/voice")
    async def voice(request: Request) -> dict[str, Any]:
        call = await request.json()
        received.append(call)
        digits = (call.get("event") or {}).get("digits")
        if not digits:
            return {
                "actions": [
                    {
                        "type": "COLLECT",
                        "name": "choice",
                        "params": {"num_digits": 1, "timeout": 5000},
                        "actions": [{"type": "SAY", "params": {"text": "Dynamic menu: press a key."}}],
                    },
                    {"type": "REDIRECT", "params": {"url": base["url"] + "/voice"}},
                ]
            }
        return {"actions": [{"type": "SAY", "params": {"text": f"The application saw {digits}."}}, {"type": "HANGUP"}]}

    @app.post("/voxology")
    async def voxology_tutorial(request: Request) -> dict[str, Any]:
        """Written for Voxology's callbacks (voxology.md §3), as its tutorial application is: it
        reads ``key_presses`` as a list of ``{name, digits}`` and asks again until it finds one."""
        call = await request.json()
        received.append(call)
        presses = call.get("key_presses") or []
        if presses and isinstance(presses, list) and presses[-1].get("digits"):
            return {"actions": [{"type": "SAY", "params": {"text": f"Voxology app heard {presses[-1]['digits']}."}}]}
        return {
            "actions": [
                {
                    "type": "COLLECT",
                    "name": "pick",
                    "params": {"num_digits": 1, "timeout": 5000},
                    "actions": [{"type": "SAY", "params": {"text": "Pick a key."}}],
                },
                {"type": "REDIRECT", "params": {"url": base["url"] + "/voxology"}},
            ]
        }

    @app.post("/lookup")
    async def lookup(request: Request) -> dict[str, Any]:
        received.append(await request.json())
        return {"firstName": "Amina", "tier": "gold"}

    @app.post("/slow")
    async def slow() -> dict[str, Any]:
        await asyncio.sleep(3)
        return {}

    @app.post("/error")
    async def error() -> JSONResponse:
        return JSONResponse({"detail": "boom"}, status_code=500)

    @app.post("/big")
    async def big() -> dict[str, Any]:
        return {"padding": "x" * 100_000}

    @app.post("/invalid")
    async def invalid() -> dict[str, Any]:
        return {"actions": [{"type": "SAYY", "params": {"text": "typo"}}]}

    return app


@contextlib.asynccontextmanager
async def serve() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    base: dict[str, str] = {}
    async with testing.serve(build(received, base)) as url:
        base["url"] = url
        yield url, received
