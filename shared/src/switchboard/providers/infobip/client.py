"""Infobip REST client (``infobip.md`` §2–6): ``Authorization: App <apiKey>`` on a per-account base
URL; JSON bodies; numbers as E.164 digits without ``+``.

- :meth:`InfobipClient.send` ``POST /tts/3/advanced`` (§3.3): one or many messages; the send
  response's ``messages[]`` (§3.4) say per destination whether it was accepted (status group
  PENDING) or rejected (group REJECTED; **assumption** of the spec). :meth:`place_message` gathers
  the calls handed in within 50 ms into one bulk request (a campaign's paced calls), with
  ``sendingSpeed`` from the account's CPS so Infobip spaces them as the dialer did;
- :meth:`InfobipClient.pull_reports` ``GET /voice/1/reports`` (§5): v2 reports, each served
  **once**; the caller must keep what it gets (see ``poller``);
- :meth:`InfobipClient.logs` ``GET /tts/3/logs`` (§6): the last 48 h, not fetch-once, for
  reconciliation.

A send that surely did not reach Infobip (connection refused) raises :class:`ProviderError`
without a status code (safe to retry); an answer with an error status is returned as a refusal.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from switchboard.errors import ProviderError
from switchboard.events import DialAttempt, DialRequest
from switchboard.providers.base import dial_attempt
from switchboard.providers.http import post_unsent_retry
from switchboard.providers.infobip.reports import obj, sign

ACCEPTED_GROUPS = frozenset({"PENDING"})
MAX_BATCH = 100
"""Messages per ``/tts/3/advanced`` request (each with one destination)."""
BATCH_WINDOW_S = 0.05
"""How long a message waits for others to share its request."""
PULL_LIMIT = 1000
"""Reports or logs per request (the spec's assumed maximum, §Unknowns)."""


def digits(number: str) -> str:
    return number.strip().lstrip("+")


class InfobipClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        notify_url: str | None = None,
        cps: float | None = None,
        batch_window_s: float = BATCH_WINDOW_S,
        timeout_s: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.api_key = api_key
        self.notify_url = notify_url
        self.cps = cps
        self.batch_window_s = batch_window_s
        self._queue: list[tuple[dict[str, Any], asyncio.Future[tuple[dict[str, Any], dict[str, Any]]]]] = []
        self._flush: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._http = http or httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            headers={"Authorization": f"App {api_key}", "Accept": "application/json"},
        )

    async def aclose(self) -> None:
        self._send_batch()
        if self._sending:
            await asyncio.wait(set(self._sending))
        await self._http.aclose()

    async def send(self, messages: Sequence[Mapping[str, Any]], *, bulk_id: str | None = None) -> dict[str, Any]:
        """``POST /tts/3/advanced`` with ``messages``; the send response (§3.4), or for an error
        status ``{"requestError": ..., "http_status": N}``. Raises :class:`ProviderError` (no status
        code) when the request did not reach Infobip."""
        body: dict[str, Any] = {"messages": list(messages)}
        if bulk_id:
            body["bulkId"] = bulk_id
        try:
            resp = await post_unsent_retry(self._http, "/tts/3/advanced", json=body)
        except httpx.HTTPError as exc:
            raise ProviderError(f"POST /tts/3/advanced failed: {exc!r}") from exc
        try:
            answer = resp.json()
        except ValueError:
            answer = {"text": resp.text[:500]}
        if not isinstance(answer, dict):
            answer = {"body": answer}
        if resp.status_code != 200:
            answer = {**answer, "http_status": resp.status_code}
        return answer

    def message(
        self, request: DialRequest, caller_id: str, fields: Mapping[str, Any], *, account: str
    ) -> dict[str, Any]:
        """One advanced message for ``request`` (``messageId`` = Switchboard's call id, so the
        report names the call), with ``callbackData`` signed (§8), ``ringTimeout`` from the policy
        and ``notifyUrl`` when reports are pushed."""
        message: dict[str, Any] = {
            "from": digits(caller_id),
            "destinations": [{"to": digits(request.to), "messageId": request.call_id}],
            "ringTimeout": min(45, request.policy.ring_timeout_s),
            "callbackData": sign(self.api_key, request.tenant_id, request.call_id, request.call_id),
            **fields,
        }
        if self.notify_url:
            sep = "&" if "?" in self.notify_url else "?"
            message["notifyUrl"] = f"{self.notify_url}{sep}account={account}"
            message["notifyContentType"] = "application/json"
            message["notifyContentVersion"] = 2
        return message

    async def place_message(
        self, request: DialRequest, caller_id: str, fields: Mapping[str, Any], *, account: str = "default"
    ) -> DialAttempt:
        """Send ``request``'s compiled message (``fields``, see ``compiler.message``); the attempt
        is accepted when Infobip took the destination (status group PENDING), its call key
        ``infobip:<call id>``. Raises :class:`ProviderError` only when the request did not reach
        Infobip."""
        entry, answer = await self._batched(self.message(request, caller_id, fields, account=account))
        status = obj(entry.get("status"))
        accepted = status.get("groupName") in ACCEPTED_GROUPS and entry.get("messageId") == request.call_id
        word = str(status.get("name") or answer.get("http_status") or "NoAnswer")
        if not accepted and "requestError" in answer:
            exc = obj(obj(answer["requestError"]).get("serviceException"))
            word = f"{exc.get('messageId', 'Error')}: {exc.get('text', '')}".strip(": ")
        return dial_attempt(
            request,
            caller_id,
            provider="infobip",
            call_key=f"infobip:{request.call_id}" if accepted else None,
            status=word,
            raw=answer,
        )

    async def _batched(self, message: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Send ``message`` in the next batch: messages handed in within ``batch_window_s`` of each
        other (the dialer's paced calls) go out as one ``/tts/3/advanced`` request of up to
        :data:`MAX_BATCH` messages (a bulk, §3.3), each keeping its own text and ``callbackData``.
        Returns this message's entry of the send response (§3.4) and the whole answer. Raises
        :class:`ProviderError` when the batch did not reach Infobip."""
        future: asyncio.Future[tuple[dict[str, Any], dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self._queue.append((message, future))
        if len(self._queue) >= MAX_BATCH:
            self._send_batch()
        elif self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(self.batch_window_s, self._send_batch)
        return await future

    def _send_batch(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        batch, self._queue = self._queue, []
        if batch:
            task = asyncio.create_task(self._deliver(batch))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _deliver(
        self, batch: list[tuple[dict[str, Any], asyncio.Future[tuple[dict[str, Any], dict[str, Any]]]]]
    ) -> None:
        messages = [message for message, _ in batch]
        if self.cps and len(messages) > 1:  # Infobip spaces the bulk's calls too (§3.3 sendingSpeed)
            speed = {"speed": max(1, math.floor(self.cps)), "timeUnit": "second"}
            messages = [{**m, "sendingSpeed": speed} for m in messages]
        try:
            answer = await self.send(messages)
        except ProviderError as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        entries = {str(obj(e).get("messageId")): obj(e) for e in answer.get("messages") or [] if isinstance(e, dict)}
        for message, future in batch:
            message_id = str(message["destinations"][0].get("messageId"))
            if not future.done():
                future.set_result((entries.get(message_id, {}), answer))

    async def pull_reports(self, limit: int = PULL_LIMIT) -> list[dict[str, Any]]:
        """``GET /voice/1/reports?limit=`` (§5): reports no one pulled before (each only once).
        Raises :class:`ProviderError` when Infobip cannot be reached or answers an error."""
        return await self._get_results("/voice/1/reports", {"limit": limit})

    async def logs(self, message_ids: Sequence[str]) -> list[dict[str, Any]]:
        """``GET /tts/3/logs?messageId=…`` (§6): the logs of these messages (last 48 h)."""
        params = [("messageId", m) for m in message_ids] + [("limit", str(PULL_LIMIT))]
        return await self._get_results("/tts/3/logs", params)

    async def _get_results(self, path: str, params: Any) -> list[dict[str, Any]]:
        try:
            resp = await self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ProviderError(f"GET {path} failed: {exc!r}") from exc
        if resp.status_code != 200:
            raise ProviderError(
                f"GET {path} answered {resp.status_code}", status_code=resp.status_code, body=resp.text[:500]
            )
        try:
            results = resp.json().get("results")
        except (ValueError, AttributeError):
            raise ProviderError(f"GET {path} answered non-JSON", status_code=resp.status_code) from None
        return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []
