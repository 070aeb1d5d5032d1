"""Telesign REST client (``telesign.md`` §2): ``POST /v2/voice`` with a JSON-RPC ``dial``.

Auth: ``Authorization: Basic base64(customer_id:api_key)`` by default, or (``auth_method="hmac"``)
the HMAC "TSA" digest the official SDK sends by default (spec §2, :class:`TelesignDigestAuth`);
numbers are digits without ``+``;
Switchboard's call id goes as ``external_id``. ``202 dial_accepted`` → the ``reference_id``; a 200,
400 or 401 with a ``status`` is a refusal, returned as such; only unreachable hosts raise without a
status code (and are retried: the request surely did not arrive).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Generator
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Literal

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


class TelesignDigestAuth(httpx.Auth):
    """The HMAC "TSA" digest (spec §2; the official SDK's default): headers ``Authorization: TSA
    <customer_id>:<signature>``, ``Date`` (RFC 2616), ``x-ts-auth-method: HMAC-SHA256`` and
    ``x-ts-nonce`` (a uuid4); the signature is base64(HMAC-SHA256) with the base64-decoded API key of
    ``METHOD\nContent-Type\nDate\nx-ts-auth-method:HMAC-SHA256\nx-ts-nonce:<nonce>\n<body>\n<path>``
    (the body line only when there is a body, as the SDK writes it)."""

    requires_request_body = True

    def __init__(self, customer_id: str, api_key: str) -> None:
        self.customer_id = customer_id
        self._key = base64.b64decode(api_key)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        date, nonce = formatdate(usegmt=True), str(uuid.uuid4())
        lines = [
            request.method,
            request.headers.get("content-type", ""),
            date,
            "x-ts-auth-method:HMAC-SHA256",
            f"x-ts-nonce:{nonce}",
        ]
        if request.content:
            lines.append(request.content.decode())
        lines.append(request.url.raw_path.decode().split("?", 1)[0])
        digest = hmac.new(self._key, "\n".join(lines).encode(), hashlib.sha256).digest()
        request.headers["Authorization"] = f"TSA {self.customer_id}:{base64.b64encode(digest).decode()}"
        request.headers["Date"] = date
        request.headers["x-ts-auth-method"] = "HMAC-SHA256"
        request.headers["x-ts-nonce"] = nonce
        yield request


class TelesignClient:
    """``auth_method``: ``basic`` (default) or ``hmac`` (:class:`TelesignDigestAuth`)."""

    def __init__(
        self,
        base_url: str,
        customer_id: str,
        api_key: str,
        *,
        timeout_s: float = 10.0,
        auth_method: Literal["basic", "hmac"] = "basic",
        http: httpx.AsyncClient | None = None,
    ) -> None:
        auth: httpx.Auth = (
            TelesignDigestAuth(customer_id, api_key) if auth_method == "hmac" else httpx.BasicAuth(customer_id, api_key)
        )
        self._http = http or httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            auth=auth,
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
