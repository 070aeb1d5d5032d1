"""How each provider's callbacks are read and answered at the ingress (its "dialect").

A dialect turns a request into a ``CallEvent`` plus its duplicate key, and knows the provider's
fallback reply and acknowledgement. :class:`~switchboard_ingress.callbacks.CallbackHandler` does the
rest the same way for every provider (guard, duplicate guard, publish, reply wait).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import orjson
from fastapi import Request, Response
from fastapi.responses import PlainTextResponse

from switchboard.accounts import ProviderClients
from switchboard.errors import AuthenticationFailed, InvalidEvent
from switchboard.events import CallEvent
from switchboard.providers import africastalking as at
from switchboard.providers import render_replies
from switchboard.providers import telesign as ts
from switchboard.providers import voxology as vox
from switchboard.providers.actions import Hangup, Say
from switchboard_ingress.fallback import fallback_actions
from switchboard_ingress.settings import IngressSettings

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class Parsed:
    event: CallEvent
    dedupe_key: str


class Dialect(Protocol):
    provider: str

    async def parse(self, request: Request, source: str) -> Parsed:
        """Raises :class:`InvalidEvent` naming the field on bad input."""

    def fallback(self, url: str, settings: IngressSettings) -> tuple[bytes, str]: ...

    def ack(self, source: str) -> Response: ...


class AfricasTalking:
    """Form posts (africastalking.md §3); XML replies; the events URL answers ``OK``."""

    provider = at.PROVIDER

    async def parse(self, request: Request, source: str) -> Parsed:
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith(FORM_TYPES):
            raise InvalidEvent(f"content type {content_type or 'none'!r} is not a form body", field="content-type")
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        event = at.parse_callback(
            form, source="events" if source == "events" else "callback", account=account_of(request)
        )
        return Parsed(event, at.dedupe_key(form, step=request.query_params.get("step")))

    def fallback(self, url: str, settings: IngressSettings) -> tuple[bytes, str]:
        return at.render(fallback_actions(url, settings))

    def ack(self, source: str) -> Response:
        return PlainTextResponse("OK") if source == "events" else Response(status_code=200)


class Voxology:
    """JSON callbacks (voxology.md §3); JSON call-flow replies; ``end_call`` gets ``{}``."""

    provider = vox.PROVIDER

    async def parse(self, request: Request, source: str) -> Parsed:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise InvalidEvent("Voxology callbacks must be application/json", field="content-type")
        raw = await request.body()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(f"the body is not JSON: {exc}", field="body") from None
        event = vox.parse_callback(body, account=account_of(request))
        return Parsed(event, vox.dedupe_key(raw, body))

    def fallback(self, url: str, settings: IngressSettings) -> tuple[bytes, str]:
        # No hold-and-redirect here: Voxology calls back by itself when a list runs out, repeating
        # the last key presses, which a late runner would apply twice. Apologise and end instead.
        return vox.render([Say(text=settings.apology_message), Hangup()])

    def ack(self, source: str) -> Response:
        return Response(b"{}", media_type="application/json")


class Telesign:
    """JSON events (telesign.md §4), signed with HMAC-SHA256 (§5); one JSON-RPC action per reply."""

    provider = ts.PROVIDER

    def __init__(self, clients: ProviderClients) -> None:
        self.clients = clients

    async def parse(self, request: Request, source: str) -> Parsed:
        raw = await request.body()
        account = self.clients.account(ts.PROVIDER, account_of(request))
        if account is None:
            raise AuthenticationFailed(f"no telesign account named {account_of(request)!r} to verify the event with")
        if not ts.verify_signature(account.api_key.get_secret_value(), raw, request.headers):
            raise AuthenticationFailed("Telesign signature (X-TS-Authorization / Authorization) does not match")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(f"the body is not JSON: {exc}", field="body") from None
        event = ts.parse_callback(body, account=account.name)
        return Parsed(event, ts.dedupe_key(raw, body))

    def fallback(self, url: str, settings: IngressSettings) -> tuple[bytes, str]:
        (body, content_type), *_ = render_replies(ts.PROVIDER, [Say(text=settings.apology_message)])
        return body, content_type

    def ack(self, source: str) -> Response:
        return Response(b"{}", media_type="application/json")


def account_of(request: Request) -> str:
    """The account a callback URL names (``?account=<name>``), else ``default``."""
    return request.query_params.get("account") or "default"


def dialects(clients: ProviderClients) -> dict[str, Dialect]:
    return {d.provider: d for d in (AfricasTalking(), Voxology(), Telesign(clients))}
