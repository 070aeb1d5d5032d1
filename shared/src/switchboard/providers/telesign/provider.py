"""Telesign as a :class:`~switchboard.providers.base.Provider` (``telesign.md``).

JSON events to one webhook, HMAC-signed (§4–5); one JSON-RPC action per reply (§3), so a batch
renders to several replies and the runner answers with the first. Telesign posts the next event
by itself, so replies name no URL and a late reply cannot redirect: the fallback speaks the apology.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from switchboard.errors import AuthenticationFailed, InvalidEvent
from switchboard.events import CallEvent, CallStatus, DialAttempt, DialRequest
from switchboard.providers.actions import ProviderAction, Say
from switchboard.providers.base import (
    Account,
    CallbackRequest,
    CallbackRoute,
    CallbackSource,
    FallbackPolicy,
    ParsedCallback,
    Provider,
    Reply,
    classify_by_duration,
    classify_q850,
    dial_attempt,
)
from switchboard.providers.telesign.callbacks import dedupe_key, parse_callback, verify_signature
from switchboard.providers.telesign.capabilities import CAPABILITIES
from switchboard.providers.telesign.client import TelesignClient
from switchboard.providers.telesign.render import CONTENT_TYPE, render_batch
from switchboard.providers.telesign.settings import TelesignSettings


class TelesignDialer(TelesignClient):
    """The Telesign REST client with the provider contract's ``place_call``."""

    async def place_call(self, request: DialRequest, caller_id: str) -> DialAttempt:
        """``POST /v2/voice`` ``dial`` (§2) with Switchboard's call id as ``external_id``."""
        dialled = await self.dial(to=request.to, caller_id=caller_id, external_id=request.call_id)
        return dial_attempt(
            request,
            caller_id,
            provider="telesign",
            status=dialled.status,
            raw=dialled.raw,
            call_key=f"telesign:{dialled.reference_id}" if dialled.accepted else None,
        )


class Telesign:
    name = "telesign"
    display_name = "Telesign"
    capabilities = CAPABILITIES
    uses_callback_urls = False
    callback_routes: tuple[CallbackRoute, ...] = (
        CallbackRoute(
            "callback",
            ("/providers/telesign/t/{token}/callback", "/providers/telesign/callback"),
            "Telesign webhook",
            "Telesign event (JSON, telesign.md §4), HMAC-signed (§5); answers one JSON-RPC action.",
        ),
    )

    def parse(self, request: CallbackRequest) -> ParsedCallback:
        account = request.account
        if account is None:
            raise AuthenticationFailed(f"no telesign account named {request.account_name!r} to verify the event with")
        if not verify_signature(account.api_key.get_secret_value(), request.body, request.headers):
            raise AuthenticationFailed("Telesign signature (X-TS-Authorization / Authorization) does not match")
        try:
            body = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(f"the body is not JSON: {exc}", field="body") from None
        event = parse_callback(body, account=account.name)
        return ParsedCallback(event, dedupe_key(request.body, body))

    def render(
        self, actions: Sequence[ProviderAction], *, reply_seq: int = 0, caller_id: str | None = None
    ) -> list[Reply]:
        return [Reply(body, CONTENT_TYPE) for body in render_batch(actions, caller_id=caller_id)]

    def fallback(self, url: str, policy: FallbackPolicy) -> Reply:
        return self.render([Say(text=policy.apology_message)])[0]

    def ack(self, source: CallbackSource) -> Reply:
        return Reply(b"{}", CONTENT_TYPE)

    def classify_end(self, event: CallEvent) -> tuple[CallStatus, str | None]:
        # The parser maps Telesign's call_completed status onto Q.850 names (telesign.md §4).
        return classify_q850(event) or classify_by_duration(event)

    def default_account(self) -> Account | None:
        ts = TelesignSettings()
        if not (ts.base_url and ts.api_key):
            return None
        return Account(
            provider=self.name,
            base_url=ts.base_url,
            api_key=ts.api_key,
            from_number=ts.from_number,
            customer_id=ts.customer_id,
        )

    def client(self, account: Account) -> TelesignDialer:
        return TelesignDialer(account.base_url, account.customer_id or "", account.api_key.get_secret_value())


PROVIDER: Provider = Telesign()
"""The Telesign adapter, as registered in :data:`switchboard.providers.PROVIDERS`."""
