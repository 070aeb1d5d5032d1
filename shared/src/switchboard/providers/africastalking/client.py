"""Africa's Talking Voice REST client (``africastalking.md`` §2), on httpx.

Auth: header ``apiKey`` plus body field ``username``; form-encoded requests; JSON responses.
Only failures where the request certainly did not reach AT (connection refused, connect timeout)
are retried: ``POST /call`` is not idempotent, and a retried timeout could ring a phone twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from switchboard.errors import ProviderError
from switchboard.events import DialAttempt, DialRequest
from switchboard.providers.base import QueuedCalls, TransferOutcome, dial_attempt
from switchboard.providers.http import post_unsent_retry

LIVE_URL = "https://voice.africastalking.com"
SANDBOX_URL = "https://voice.sandbox.africastalking.com"
SANDBOX_USERNAME = "sandbox"


def base_url_for(username: str, base_url: str | None = None) -> str:
    """The voice API host for an account: an explicit ``base_url`` wins; otherwise username
    ``sandbox`` goes to the sandbox host and any other to the live host, as the official SDK
    (africastalking 2.0.3) does (africastalking.md §2, §8)."""
    if base_url:
        return base_url.rstrip("/")
    return SANDBOX_URL if username == SANDBOX_USERNAME else LIVE_URL


@dataclass(frozen=True)
class CallEntry:
    """One ``entries[]`` item of a ``/call`` response. ``session_id`` is None for ``"None"``."""

    phone_number: str
    status: str
    session_id: str | None


@dataclass(frozen=True)
class TransferResult:
    """``status``: ``Success`` or ``Aborted``; ``error_message``: None on success."""

    status: str
    error_message: str | None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueEntry:
    phone_number: str
    queue_name: str
    num_calls: int


@dataclass(frozen=True)
class PlaceCallResult:
    entries: list[CallEntry]
    error_message: str | None
    raw: dict[str, Any] = field(default_factory=dict)


class AfricasTalkingClient:
    """``async with AfricasTalkingClient(base_url, username, api_key) as at: await at.call(...)``.

    ``base_url``: None or empty derives the host from ``username`` (:func:`base_url_for`)."""

    def __init__(
        self,
        base_url: str | None,
        username: str,
        api_key: str,
        *,
        timeout_s: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.username = username
        self.base_url = base_url_for(username, base_url)
        self._http = http or httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout_s,
            headers={"apiKey": api_key, "Accept": "application/json"},
        )

    async def __aenter__(self) -> AfricasTalkingClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return await post_unsent_retry(self._http, path, data={"username": self.username, **data})

    async def call(self, *, from_: str, to: str, client_request_id: str | None = None) -> PlaceCallResult:
        """``POST /call``. Raises :class:`ProviderError` on a non-2xx answer, a body that is not
        JSON, or a whole-request rejection (``errorMessage`` other than ``"None"``)."""
        data = {"from": from_, "to": to}
        if client_request_id:
            data["clientRequestId"] = client_request_id
        body = self._json(await self._send("/call", data), "POST /call")
        error = body.get("errorMessage")
        entries = [
            CallEntry(
                phone_number=str(e.get("phoneNumber", "")),
                status=str(e.get("status", "")),
                session_id=None if e.get("sessionId") in (None, "", "None") else str(e["sessionId"]),
            )
            for e in body.get("entries") or body.get("Entries") or []
        ]
        if error not in (None, "None") and not entries:
            raise ProviderError(f"POST /call rejected: {error}", status_code=200, body=str(body)[:500])
        return PlaceCallResult(entries=entries, error_message=None if error == "None" else error, raw=body)

    async def place_call(self, request: DialRequest, caller_id: str) -> DialAttempt:
        """:meth:`call` as the provider contract's ``place_call``: a refusal with a status code
        becomes a rejected attempt; only an unreachable host raises :class:`ProviderError`."""
        try:
            result = await self.call(from_=caller_id, to=request.to, client_request_id=request.call_id)
        except ProviderError as exc:
            if exc.status_code is None:
                raise
            return attempt_from(request, caller_id, None, exc)
        return attempt_from(request, caller_id, result)

    async def transfer(
        self, *, session_id: str, phone_number: str, call_leg: str, hold_music_url: str | None
    ) -> TransferOutcome:
        result = await self.call_transfer(
            session_id=session_id, phone_number=phone_number, call_leg=call_leg, hold_music_url=hold_music_url
        )
        return TransferOutcome(ok=result.status == "Success", status=result.status, error=result.error_message)

    async def queued_calls(self, phone_numbers: Sequence[str]) -> list[QueuedCalls]:
        return [
            QueuedCalls(phone_number=e.phone_number, queue_name=e.queue_name, num_calls=e.num_calls)
            for e in await self.queue_status(list(phone_numbers))
        ]

    async def upload_media(self, *, phone_number: str, url: str) -> None:
        await self.media_upload(phone_number=phone_number, url=url)

    def _json(self, resp: httpx.Response, what: str) -> dict[str, Any]:
        if resp.status_code not in (200, 201):
            raise ProviderError(
                f"{what} answered {resp.status_code}", status_code=resp.status_code, body=resp.text[:500]
            )
        try:
            body = resp.json()
        except ValueError:
            raise ProviderError(
                f"{what} answered non-JSON", status_code=resp.status_code, body=resp.text[:500]
            ) from None
        return body if isinstance(body, dict) else {}

    async def _send(self, path: str, data: dict[str, str]) -> httpx.Response:
        try:
            return await self._post(path, data)
        except httpx.HTTPError as exc:
            raise ProviderError(f"POST {path} failed: {exc!r}") from exc

    async def call_transfer(
        self, *, session_id: str, phone_number: str, call_leg: str = "callee", hold_music_url: str | None = None
    ) -> TransferResult:
        """``POST /callTransfer`` (spec §2.2). The answer may be wrapped in ``callTransferResponse``
        or flat (§8); both are read. Raises :class:`ProviderError` on a non-2xx or non-JSON answer."""
        data = {"sessionId": session_id, "phoneNumber": phone_number, "callLeg": call_leg}
        if hold_music_url:
            data["holdMusicUrl"] = hold_music_url
        body = self._json(await self._send("/callTransfer", data), "POST /callTransfer")
        wrapped = body.get("callTransferResponse")
        inner: dict[str, Any] = wrapped if isinstance(wrapped, dict) else body
        error = inner.get("errorMessage")
        return TransferResult(
            status=str(inner.get("status", "")), raw=body, error_message=None if error in (None, "None") else str(error)
        )

    async def queue_status(self, phone_numbers: list[str]) -> list[QueueEntry]:
        """``POST /queueStatus`` (spec §2.3): callers waiting per queue of each number. ``entries``
        and ``numCalls`` are read tolerantly (any key casing; int or string)."""
        body = self._json(
            await self._send("/queueStatus", {"phoneNumbers": ",".join(phone_numbers)}), "POST /queueStatus"
        )
        lowered = {k.lower(): v for k, v in body.items()}
        if str(lowered.get("status", "Success")) != "Success":
            raise ProviderError(f"POST /queueStatus: {lowered.get('errormessage')}", body=str(body)[:500])
        entries = []
        for raw in lowered.get("entries") or []:
            item = {k.lower(): v for k, v in raw.items()}
            entries.append(
                QueueEntry(
                    phone_number=str(item.get("phonenumber", "")),
                    queue_name=str(item.get("queuename", "")),
                    num_calls=int(str(item.get("numcalls", 0)) or 0),
                )
            )
        return entries

    async def media_upload(self, *, phone_number: str, url: str) -> None:
        """``POST /mediaUpload`` (spec §2.4). Success is HTTP 201 and nothing else, whatever the body
        says (the docs give ``{"status": "Success"}``, the official SDK's test ``{"success": true}``;
        §8); any other answer raises :class:`ProviderError`."""
        resp = await self._send("/mediaUpload", {"phoneNumber": phone_number, "url": url})
        if resp.status_code != 201:
            raise ProviderError(
                f"POST /mediaUpload answered {resp.status_code}", status_code=resp.status_code, body=resp.text[:500]
            )


def attempt_from(
    request: DialRequest, caller_id: str, result: PlaceCallResult | None, error: ProviderError | None = None
) -> DialAttempt:
    """The DialAttempt for an answer to ``POST /call`` (spec §2.1), or for the ``error`` it
    answered: accepted when its first entry is ``Queued`` with a ``sessionId``."""
    entry = result.entries[0] if result and result.entries else None
    accepted = bool(entry and entry.session_id and entry.status == "Queued")
    if entry is not None:
        status = entry.status
    elif error is not None:
        status = f"Error{error.status_code or ''}: {error}"
    else:
        status = result.error_message if result and result.error_message else "NoEntry"
    return dial_attempt(
        request,
        caller_id,
        provider="africastalking",
        call_key=f"africastalking:{entry.session_id}" if accepted and entry else None,
        status=status,
        raw=result.raw if result else {"error": str(error), "body": error.body if error else ""},
    )
