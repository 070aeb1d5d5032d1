"""Voxology as a :class:`~switchboard.providers.base.Provider` (``voxology.md``).

JSON callbacks to one configured URL (§3), answered with a call-flow document (§4). Voxology calls
back by itself when a reply's action list runs out, so replies name no URL, and a late reply cannot
hold and redirect: a hold prompt would make Voxology call back with the same key presses, which a
late runner would apply twice, so the fallback apologises and ends the call.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from switchboard.errors import InvalidEvent, ProviderError
from switchboard.events import CallEvent, CallStatus, DialAttempt, DialRequest
from switchboard.providers.actions import ProviderAction, Redirect
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
    hold_and_redirect,
)
from switchboard.providers.voxology.callbacks import dedupe_key, parse_callback
from switchboard.providers.voxology.capabilities import CAPABILITIES
from switchboard.providers.voxology.client import VoxologyClient
from switchboard.providers.voxology.render import render
from switchboard.providers.voxology.settings import VoxologySettings


class VoxologyDialer(VoxologyClient):
    """The Voxology REST client with the provider contract's ``place_call``."""

    async def place_call(self, request: DialRequest, caller_id: str) -> DialAttempt:
        """``POST /v1/Dials/Connect`` (§2) with Switchboard's call id in ``session_data``
        (``sb_call_id``). An answer with a status code but no call is a rejected attempt."""
        try:
            answer = await self.connect(
                to=request.to,
                caller_id=caller_id,
                timeout_s=request.policy.ring_timeout_s,
                session_data={**request.session_data, "sb_call_id": request.call_id},
            )
        except ProviderError as exc:
            if exc.status_code is None:
                raise
            status = f"Error{exc.status_code}: {exc}"
            return dial_attempt(
                request, caller_id, provider="voxology", call_key=None, status=status, raw={"body": exc.body}
            )
        return dial_attempt(
            request,
            caller_id,
            provider="voxology",
            call_key=f"voxology:{answer['call_id']}",
            status="accepted",
            raw=answer,
        )


class Voxology:
    name = "voxology"
    display_name = "Voxology"
    capabilities = CAPABILITIES
    uses_callback_urls = False
    callback_routes: tuple[CallbackRoute, ...] = (
        CallbackRoute(
            "callback",
            ("/providers/voxology/t/{token}/callback", "/providers/voxology/callback"),
            "Voxology callback URL",
            "Voxology callback (JSON, voxology.md §3); answers a call-flow document.",
        ),
    )

    def parse(self, request: CallbackRequest) -> ParsedCallback:
        if not request.content_type.startswith("application/json"):
            raise InvalidEvent("Voxology callbacks must be application/json", field="content-type")
        try:
            body = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(f"the body is not JSON: {exc}", field="body") from None
        event = parse_callback(body, account=request.account_name)
        return ParsedCallback(event, dedupe_key(request.body, body))

    def render(
        self, actions: Sequence[ProviderAction], *, reply_seq: int = 0, caller_id: str | None = None
    ) -> list[Reply]:
        body, content_type = render(actions, step=reply_seq)
        return [Reply(body, content_type)]

    def fallback(self, url: str, policy: FallbackPolicy) -> Reply:
        """The hold and a ``REDIRECT`` back to ``url`` (voxology.md §2: "Fetch a new script", the
        follow-up a ``live_call`` callback to that URL, which carries ``retry_of``), up to
        ``policy.max_redirects`` times; then the apology. The flow renderer leaves ``Redirect`` out
        (Voxology calls back by itself when a list runs out); a hold must name the URL to come back
        to, so it is written here."""
        actions = hold_and_redirect(url, policy)
        if isinstance(actions[-1], Redirect):
            body, content_type = render(actions[:-1], step=0)
            doc = orjson.loads(body)
            doc["actions"].append({"type": "REDIRECT", "params": {"url": actions[-1].url, "method": "POST"}})
            return Reply(orjson.dumps(doc), content_type)
        (reply,) = self.render(actions)
        return reply

    def ack(self, source: CallbackSource) -> Reply:
        return Reply(b"{}", "application/json")

    def classify_end(self, event: CallEvent) -> tuple[CallStatus, str | None]:
        # The parser maps Voxology's end status onto Q.850 names (voxology.md §3).
        return classify_q850(event) or classify_by_duration(event)

    def default_account(self) -> Account | None:
        vox = VoxologySettings()
        if not vox.base_url:
            return None
        return Account(provider=self.name, base_url=vox.base_url, api_key=vox.api_key, from_number=vox.from_number)

    def client(self, account: Account) -> VoxologyDialer:
        return VoxologyDialer(account.base_url, account.api_key.get_secret_value())


PROVIDER: Provider = Voxology()
"""The Voxology adapter, as registered in :data:`switchboard.providers.PROVIDERS`."""
