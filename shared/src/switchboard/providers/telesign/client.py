"""Telesign REST client (``telesign.md`` §2): ``POST /v2/voice`` with a JSON-RPC ``dial``.

Auth: ``Authorization: Basic base64(customer_id:api_key)``; numbers are digits without ``+``;
Switchboard's call id goes as ``external_id``. ``202 dial_accepted`` → the ``reference_id``; a 200,
400 or 401 with a ``status`` is a refusal, returned as such; only unreachable hosts raise without a
status code (and are retried: the request surely did not arrive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from switchboard.errors import ProviderError
from switchboard.providers.http import post_unsent_retry

LIVE_URL = "https://rest-ww.telesign.com"


@dataclass(frozen=True)
class DialResult:
    accepted: bool
    status: str
    reference_id: str | None
    raw: dict[str, Any]


class TelesignClient:
    def __init__(
        self,
        base_url: str,
        customer_id: str,
        api_key: str,
        *,
        timeout_s: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = http or httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            auth=(customer_id, api_key),
            headers={"Accept": "application/json"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def dial(self, *, to: str, caller_id: str, external_id: str) -> DialResult:
        body = {
            "jsonrpc": "2.0",
            "id": "1",
            "method": "dial",
            "params": {"to": to.lstrip("+"), "caller_id_number": caller_id.lstrip("+"), "external_id": external_id},
        }
        try:
            resp = await post_unsent_retry(self._http, "/v2/voice", json=body)
        except httpx.HTTPError as exc:
            raise ProviderError(f"POST /v2/voice failed: {exc!r}") from exc
        try:
            answer = resp.json()
        except ValueError:
            raise ProviderError(
                f"POST /v2/voice answered {resp.status_code} non-JSON",
                status_code=resp.status_code,
                body=resp.text[:500],
            ) from None
        if not isinstance(answer, dict):
            raise ProviderError("POST /v2/voice answered a non-object", status_code=resp.status_code)
        status = str(answer.get("status", f"http_{resp.status_code}"))
        accepted = resp.status_code == 202 and status == "dial_accepted" and bool(answer.get("reference_id"))
        return DialResult(
            accepted=accepted, status=status, raw=answer, reference_id=str(answer["reference_id"]) if accepted else None
        )
