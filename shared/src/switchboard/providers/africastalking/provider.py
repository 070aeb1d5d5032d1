"""Africa's Talking as a :class:`~switchboard.providers.base.Provider` (``africastalking.md``).

Form-encoded callbacks to a callback URL (answered with XML) and an events URL (answered ``OK``),
§3; a whole ``<Response>`` of actions per reply, §4; replies name the URL AT posts back to
(``GetDigits``/``Record`` ``callbackUrl``), so a late reply can hold the caller and redirect back
(§4 ``<Redirect>``).
"""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.errors import InvalidEvent
from switchboard.events import CallEvent, CallStatus
from switchboard.providers.actions import ProviderAction
from switchboard.providers.africastalking.callbacks import dedupe_key, parse_callback
from switchboard.providers.africastalking.capabilities import CAPABILITIES
from switchboard.providers.africastalking.client import AfricasTalkingClient
from switchboard.providers.africastalking.outcome import classify_end
from switchboard.providers.africastalking.render import render
from switchboard.providers.africastalking.settings import AfricasTalkingSettings
from switchboard.providers.base import (
    Account,
    CallbackRequest,
    CallbackRoute,
    CallbackSource,
    FallbackPolicy,
    ParsedCallback,
    Provider,
    Reply,
    hold_and_redirect,
)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class AfricasTalking:
    name = "africastalking"
    display_name = "Africa's Talking"
    capabilities = CAPABILITIES
    uses_callback_urls = True
    callback_routes: tuple[CallbackRoute, ...] = (
        CallbackRoute(
            "callback",
            ("/providers/africastalking/t/{token}/callback", "/providers/africastalking/callback", "/voice/instruct"),
            "AT callback URL",
            "Africa's Talking notification (form body, africastalking.md §3); answers XML.",
        ),
        CallbackRoute(
            "events",
            ("/providers/africastalking/t/{token}/events", "/providers/africastalking/events", "/voice/events"),
            "AT events URL",
            "Progress events (africastalking.md §3.3); answers OK.",
        ),
    )

    def parse(self, request: CallbackRequest) -> ParsedCallback:
        if request.form is None or not request.content_type.startswith(FORM_TYPES):
            shown = request.content_type or "none"
            raise InvalidEvent(f"content type {shown!r} is not a form body", field="content-type")
        event = parse_callback(request.form, source=request.source, account=request.account_name)
        return ParsedCallback(event, dedupe_key(request.form, step=request.query.get("step")))

    def render(
        self, actions: Sequence[ProviderAction], *, reply_seq: int = 0, caller_id: str | None = None
    ) -> list[Reply]:
        body, content_type = render(actions)
        return [Reply(body, content_type)]

    def fallback(self, url: str, policy: FallbackPolicy) -> Reply:
        (reply,) = self.render(hold_and_redirect(url, policy))
        return reply

    def ack(self, source: CallbackSource) -> Reply:
        return Reply(b"OK", "text/plain") if source == "events" else Reply(b"", "text/plain")

    def classify_end(self, event: CallEvent) -> tuple[CallStatus, str | None]:
        return classify_end(event)

    def default_account(self) -> Account:
        at = AfricasTalkingSettings()
        return Account(
            provider=self.name,
            base_url=at.at_base_url,
            api_key=at.at_api_key,
            from_number=at.at_from_number,
            username=at.at_username,
        )

    def client(self, account: Account) -> AfricasTalkingClient:
        return AfricasTalkingClient(account.base_url, account.username or "sandbox", account.api_key.get_secret_value())


PROVIDER: Provider = AfricasTalking()
"""The Africa's Talking adapter, as registered in :data:`switchboard.providers.PROVIDERS`."""
