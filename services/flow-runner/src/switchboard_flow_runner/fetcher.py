"""The I/O that flow actions ask for: WEBHOOK, REDIRECT to an application URL, REDIRECT to a flow.

Every request has a total deadline (``FetchRequest.timeout_ms``, already capped by the engine
settings) and a size cap on the answer (``webhook_max_bytes``); the answer must be JSON. Failures
come back as ``FetchAnswer.error`` (never raised), so the interpreter can end the call politely.
"""

from __future__ import annotations

import asyncio

import httpx
import orjson

from switchboard.flow.actions.base import FetchAnswer, FetchRequest
from switchboard.flow.repository import FlowRepository


class Fetcher:
    def __init__(self, flows: FlowRepository, *, max_bytes: int) -> None:
        self.flows = flows
        self.max_bytes = max_bytes
        self.http = httpx.AsyncClient(
            headers={"User-Agent": "Switchboard/0.1", "Accept": "application/json"}, follow_redirects=False
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch(self, request: FetchRequest) -> FetchAnswer:
        if request.kind == "flow":
            flow = self.flows.get(str(request.flow))
            return FetchAnswer(data=flow) if flow else FetchAnswer(error=f"there is no flow named {request.flow!r}")
        try:
            async with asyncio.timeout(request.timeout_ms / 1000):
                return await self._http(request)
        except TimeoutError:
            return FetchAnswer(error=f"timed out after {request.timeout_ms} ms")
        except httpx.HTTPError as exc:
            return FetchAnswer(error=f"could not reach {request.url}: {type(exc).__name__}")

    async def _http(self, request: FetchRequest) -> FetchAnswer:
        kwargs: dict[str, object] = {"params": None, "json": None}
        if request.method == "GET":
            kwargs["params"] = {"call": orjson.dumps(request.body).decode()} if request.body is not None else None
        else:
            kwargs["json"] = request.body
        async with self.http.stream(request.method, str(request.url), **kwargs) as resp:  # type: ignore[arg-type]
            if not 200 <= resp.status_code < 300:
                return FetchAnswer(error=f"answered HTTP {resp.status_code}", status=resp.status_code)
            body = bytearray()
            async for chunk in resp.aiter_bytes():
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    return FetchAnswer(error=f"answer larger than {self.max_bytes} bytes", status=resp.status_code)
        try:
            return FetchAnswer(data=orjson.loads(bytes(body)), status=resp.status_code)
        except orjson.JSONDecodeError:
            return FetchAnswer(error="answer is not JSON", status=resp.status_code)
