"""Infobip as a :class:`~switchboard.providers.base.Provider` (``infobip.md``).

Infobip voice messages have no live callbacks (§1): the dialer compiles the call's flow into one
advanced message (:func:`compile_call`) and sends it (:meth:`InfobipDialer.place_message`); the
ingress serves the delivery-report URL (``events``: acknowledged with 200, never answered with
actions, §5) where each report becomes a ``call.ended`` event; reports that are not pushed are
pulled by the poller (``poller``). ``render`` refuses: there is no reply language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from switchboard.errors import AuthenticationFailed, FlowError, InvalidEvent
from switchboard.events import CallEvent, CallStatus, DialAttempt, DialRequest
from switchboard.logging import get_logger
from switchboard.providers.actions import ProviderAction
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
from switchboard.providers.infobip.capabilities import CAPABILITIES
from switchboard.providers.infobip.client import InfobipClient
from switchboard.providers.infobip.reports import FINAL_GROUPS, dedupe_key, obj, report_event, results
from switchboard.providers.infobip.settings import InfobipSettings

log = get_logger(__name__)

if TYPE_CHECKING:  # the flow package imports the provider registry: no import cycle at run time
    from switchboard.flow.document import Flow
    from switchboard.state import CallState


def compile_call(flow: Flow, state: CallState) -> dict[str, Any]:
    """The advanced-message fields for a call about to be placed: the flow's first turn run by the
    interpreter with the call's data (server-side actions before the COLLECT run now), then
    :func:`~switchboard.providers.infobip.compiler.message`. Raises :class:`FlowError` when the
    flow cannot be one message (or ends the call with an error before speaking)."""
    from switchboard.flow.actions.base import EngineSettings
    from switchboard.flow.interpreter import run
    from switchboard.providers.infobip.compiler import message, refusals

    problems = refusals(flow.actions)
    if problems:
        pointer, reason = problems[0]
        raise FlowError(f"{pointer}: {reason}")
    turn = run(flow, state, None, EngineSettings())
    if turn.error is not None or turn.internal_error:
        raise FlowError(f"the flow failed before its message was complete: {turn.error or 'internal error'}")
    return message(turn.actions, flow.actions)


class InfobipDialer(InfobipClient):
    """The Infobip client with the provider contract's ``place_call``: without its flow there is no
    message to send, so a bare ``place_call`` is a refused attempt; the dialer calls
    :meth:`place_flow` (``MessageCalls``)."""

    account_name = "default"

    async def place_flow(self, request: DialRequest, caller_id: str, flow: Flow, state: CallState) -> DialAttempt:
        """Compile ``flow`` for this call (:func:`compile_call`) and send it; a flow that cannot be
        one message is a refused attempt (status ``FlowRefused``)."""
        try:
            fields = compile_call(flow, state)
        except FlowError as exc:
            raw = {"error": str(exc)}
            return dial_attempt(request, caller_id, provider="infobip", call_key=None, status="FlowRefused", raw=raw)
        return await self.place_message(request, caller_id, fields, account=self.account_name)

    async def place_call(self, request: DialRequest, caller_id: str) -> DialAttempt:
        return dial_attempt(
            request,
            caller_id,
            provider="infobip",
            call_key=None,
            status="FlowRequired",
            raw={"error": "an Infobip call is its flow compiled into one message; place it with place_message"},
        )

    async def pull_events(self, account: Account) -> list[ParsedCallback]:
        """``GET /voice/1/reports`` (fetch-once, §5) as end events; a report whose
        ``callbackData`` does not verify is dropped with a warning."""
        key = account.api_key.get_secret_value()
        out: list[ParsedCallback] = []
        for report in await self.pull_reports():
            try:
                out.append(ParsedCallback(report_event(report, account=account.name, api_key=key), dedupe_key(report)))
            except (AuthenticationFailed, InvalidEvent) as exc:
                log.warning("pulled report refused", message_id=report.get("messageId"), error=str(exc))
        return out

    async def lookup_events(self, session_ids: Sequence[str], account: Account) -> list[ParsedCallback]:
        """The logs (§6, last 48 h) of these messages: the final ones as end events (no DTMF:
        logs do not carry it). Logs have no ``callbackData``; they come from Infobip on our key."""
        out: list[ParsedCallback] = []
        for row in await self.logs(list(session_ids)):
            if obj(row.get("status")).get("groupName") not in FINAL_GROUPS:
                continue
            try:
                out.append(ParsedCallback(report_event(row, account=account.name, api_key=None), dedupe_key(row)))
            except InvalidEvent as exc:
                log.warning("log row refused", message_id=row.get("messageId"), error=str(exc))
        return out


class Infobip:
    name = "infobip"
    display_name = "Infobip"
    capabilities = CAPABILITIES
    uses_callback_urls = False
    callback_routes: tuple[CallbackRoute, ...] = (
        CallbackRoute(
            "events",
            ("/providers/infobip/t/{token}/reports", "/providers/infobip/reports"),
            "Infobip delivery reports",
            "Delivery reports pushed to a message's notifyUrl (JSON, v2 or v1, infobip.md §5), each verified by "
            "its signed callbackData (§8); answered 200 once recorded.",
        ),
    )

    def parse(self, request: CallbackRequest) -> ParsedCallback:
        account = request.account
        if account is None:
            raise AuthenticationFailed(f"no infobip account named {request.account_name!r} to verify reports with")
        key = account.api_key.get_secret_value()
        parsed = [
            ParsedCallback(report_event(r, account=account.name, api_key=key), dedupe_key(r))
            for r in results(request.body)
        ]
        return ParsedCallback(parsed[0].event, parsed[0].dedupe_key, more=tuple(parsed[1:]))

    def render(
        self, actions: Sequence[ProviderAction], *, reply_seq: int = 0, caller_id: str | None = None
    ) -> list[Reply]:
        raise FlowError(
            "Infobip voice messages have no live replies (infobip.md §1): the flow is compiled at dial time"
        )

    def fallback(self, url: str, policy: FallbackPolicy) -> Reply:
        return self.ack("events")

    def ack(self, source: CallbackSource) -> Reply:
        return Reply(b"", "text/plain")

    def classify_end(self, event: CallEvent) -> tuple[CallStatus, str | None]:
        # reports.hangup_cause maps Infobip's status and error names onto Q.850 names (§7)
        return classify_q850(event) or classify_by_duration(event)

    def default_account(self) -> Account | None:
        ib = InfobipSettings()
        if not (ib.base_url and ib.api_key):
            return None
        return Account(
            provider=self.name,
            base_url=ib.base_url,
            api_key=ib.api_key,
            from_number=ib.from_number,
            report_url=ib.notify_url,
        )

    def client(self, account: Account) -> InfobipDialer:
        dialer = InfobipDialer(
            account.base_url, account.api_key.get_secret_value(), notify_url=account.report_url, cps=account.cps
        )
        dialer.account_name = account.name
        return dialer


PROVIDER: Provider = Infobip()
"""The Infobip adapter, as registered in :data:`switchboard.providers.PROVIDERS`."""
