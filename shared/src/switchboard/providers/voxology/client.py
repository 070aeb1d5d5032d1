"""Voxology REST client (``voxology.md`` §2), on httpx: ``X-API-KEY`` auth, JSON bodies.

``POST /v1/Dials/Connect`` places a call; Switchboard's call id travels in ``session_data`` as
``sb_call_id`` (ARCHITECTURE §2), so the first callback can find the dialer's state. Only failures
where the request certainly did not reach Voxology are retried (a retried timeout could ring twice).
HTTP 423 is Voxology's "too many requests" (3P) and is reported as such.
"""

from __future__ import annotations

from typing import Any

import httpx

from switchboard.errors import ProviderError
from switchboard.providers.http import post_unsent_retry

LIVE_URL = "https://api.voxolo.gy"


class VoxologyClient:
    def __init__(
        self, base_url: str, api_key: str, *, timeout_s: float = 10.0, http: httpx.AsyncClient | None = None
    ) -> None:
        self._http = http or httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            headers={"X-API-KEY": api_key, "Accept": "application/json"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def connect(
        self,
        *,
        to: str,
        caller_id: str,
        session_data: dict[str, Any],
        timeout_s: int = 60,
        max_call_time_ms: int | None = None,
    ) -> dict[str, Any]:
        """``POST /v1/Dials/Connect``. Returns the JSON answer (assumed ``{"call_id": ...}``).
        Raises :class:`ProviderError` on a non-2xx or non-JSON answer or an unreachable host."""
        body: dict[str, Any] = {
            "call": {"no": to, "caller_id_no": caller_id},
            "session_data": session_data,
            "timeout": timeout_s,
        }
        if max_call_time_ms:
            body["max_call_time"] = max_call_time_ms
        try:
            resp = await post_unsent_retry(self._http, "/v1/Dials/Connect", json=body)
        except httpx.HTTPError as exc:
            raise ProviderError(f"POST /v1/Dials/Connect failed: {exc!r}") from exc
        if resp.status_code == 423:
            raise ProviderError("Voxology throttled the call (423)", status_code=423, body=resp.text[:500])
        if not 200 <= resp.status_code < 300:
            raise ProviderError(
                f"POST /v1/Dials/Connect answered {resp.status_code}",
                status_code=resp.status_code,
                body=resp.text[:500],
            )
        try:
            answer = resp.json()
        except ValueError:
            raise ProviderError("POST /v1/Dials/Connect answered non-JSON", status_code=resp.status_code) from None
        if not isinstance(answer, dict) or not answer.get("call_id"):
            raise ProviderError(
                "POST /v1/Dials/Connect answered no call_id", status_code=resp.status_code, body=resp.text[:500]
            )
        return answer
