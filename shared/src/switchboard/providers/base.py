"""The provider contract (ARCHITECTURE §6): what every provider package exports, once.

A provider package ``switchboard.providers.<name>`` exports one object implementing
:class:`Provider`; :data:`switchboard.providers.PROVIDERS` maps names to them. Everything
provider-specific a service needs goes through that object:

- the **ingress** serves ``callback_routes``, hands each request to :meth:`Provider.parse` (a
  :class:`CallbackRequest` in, a normalised :class:`~switchboard.events.CallEvent` plus its
  duplicate key out), answers :meth:`Provider.ack` to notifications that need no reply and
  :meth:`Provider.fallback` when the flow-runner's reply is late;
- the **flow-runner** renders provider actions with :meth:`Provider.render` (one reply, or one per
  action for providers that take a single action per reply) and classifies the end of a call with
  :meth:`Provider.classify_end`;
- the **dialer** and the call-control API use :meth:`Provider.client` for an account and call
  :meth:`ProviderClient.place_call`; optional REST features are separate protocols
  (:class:`CallTransfer`, :class:`QueueStatus`, :class:`MediaUpload`) checked with ``isinstance``;
- **flow validation** reads ``capabilities``.

A provider that cannot carry out an action says so in its capability table, and its ``render``
raises :class:`~switchboard.errors.FlowError` for it: nothing falls back to another provider's
format. Adding a provider is a package under ``providers/``, a simulator under ``provider-sim``
and one entry in the registry (``docs/adding-a-provider.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr

from switchboard.events import CallEvent, CallStatus, DialAttempt, DialRequest
from switchboard.providers.actions import Hangup, Play, ProviderAction, Redirect, Say
from switchboard.providers.capabilities import Capabilities

if TYPE_CHECKING:  # the flow package imports this registry: no import cycle at run time
    from switchboard.flow.document import Flow
    from switchboard.state import CallState

CallbackSource = Literal["callback", "events"]
"""Which of a provider's URLs a request came to: the live ``callback`` (answered with actions)
or a notifications-only ``events`` URL (Africa's Talking's events URL)."""


@dataclass(frozen=True)
class Reply:
    """One HTTP answer body for a provider: ``body`` bytes and their ``content_type``."""

    body: bytes
    content_type: str


class Account(BaseModel):
    """One provider account. ``api_key``: the secret (Telesign's is base64 and also verifies its
    events); ``username``: Africa's Talking's; ``customer_id``: Telesign's; ``from_number``: the
    E.164 caller ID calls are placed from unless a request names another. ``cps``: calls per
    second the provider allows on the account (None: the dialer's ``SB_DIAL_CPS``);
    ``max_concurrent``: live calls the account may carry at once (None: no cap). Both are shared by
    every dialer replica (:mod:`switchboard.pacing`). ``report_url``: Infobip's, where delivery
    reports are pushed (each message's ``notifyUrl``); None: they are pulled."""

    provider: str
    name: str = "default"
    base_url: str
    api_key: SecretStr
    from_number: str
    username: str | None = None
    customer_id: str | None = None
    cps: float | None = Field(default=None, gt=0)
    max_concurrent: int | None = Field(default=None, ge=1)
    report_url: str | None = None


@dataclass(frozen=True)
class CallbackRoute:
    """An endpoint the ingress serves for a provider. ``paths`` are FastAPI path templates (a
    ``{token}`` segment carries the deployment's callback secret); ``method`` is the HTTP verb."""

    source: CallbackSource
    paths: tuple[str, ...]
    summary: str
    description: str
    method: str = "POST"


@dataclass(frozen=True)
class CallbackRequest:
    """A provider request as the ingress read it, free of any web framework.

    ``body``: the raw bytes (what signatures are computed over); ``form``: the decoded form fields
    when the body is a form (else None); ``headers`` with lower-case names; ``query``: the URL's
    query parameters; ``account``: the account the URL names (``?account=``), None when no such
    account is configured; ``account_name``: that name as given (``default`` when absent).
    """

    source: CallbackSource
    content_type: str
    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str]
    account_name: str = "default"
    account: Account | None = None
    form: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ParsedCallback:
    """What a provider made of a callback: the normalised event and the key that identifies
    repeats of the same callback (the ingress answers a repeat with the first copy's reply).
    ``more``: further events of the same request, each with its own key, for providers that batch
    notifications (Infobip's delivery reports, ``{"results": [...]}``); only an ``events`` source
    may carry them (there is no reply to give per event)."""

    event: CallEvent
    dedupe_key: str
    more: tuple[ParsedCallback, ...] = ()


@dataclass(frozen=True)
class FallbackPolicy:
    """What a late reply turns into (ARCHITECTURE §4). ``mode``: ``redirect`` (hold and a
    redirect back to the same URL, where the provider allows it) or ``hangup`` (straight to the
    apology); ``max_redirects``: hold-and-redirects per callback before the apology. The first hold
    says ``hold_message``; the later ones play ``hold_audio_url`` (hold music or a comfort tone)
    when it is set, so a caller held through a restart hears the prompt once, not over and over."""

    hold_message: str = "Please hold."
    apology_message: str = "Sorry, we are unable to continue this call. Goodbye."
    mode: Literal["redirect", "hangup"] = "redirect"
    max_redirects: int = 2
    hold_audio_url: str | None = None


def hold_and_redirect(url: str, policy: FallbackPolicy) -> list[ProviderAction]:
    """A hold (the prompt the first time, then ``policy.hold_audio_url`` if set) and a redirect
    back to ``url`` (counted in its ``fallback`` query parameter), or, after
    ``policy.max_redirects`` or in ``hangup`` mode, the apology and the end of the call.
    For providers whose replies may redirect to a URL (Africa's Talking ``<Redirect>``)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    try:
        count = int(query.get("fallback", "0") or 0)
    except ValueError:
        count = policy.max_redirects  # a tampered counter gets no more holds
    if policy.mode == "redirect" and 0 <= count < policy.max_redirects:
        query["fallback"] = str(count + 1)
        again = urlunsplit(parts._replace(query=urlencode(query)))
        hold: ProviderAction = (
            Play(url=policy.hold_audio_url) if count > 0 and policy.hold_audio_url else Say(text=policy.hold_message)
        )
        return [hold, Redirect(url=again)]
    return [Say(text=policy.apology_message), Hangup()]


# Q.850 / FreeSWITCH hangup causes (the names Africa's Talking reports, and what the other
# providers' statuses are normalised to) → Switchboard's final status.
Q850_STATUS: Mapping[str, CallStatus] = {
    "NORMAL_CLEARING": CallStatus.COMPLETED,
    "USER_BUSY": CallStatus.BUSY,
    "NO_ANSWER": CallStatus.NO_ANSWER,
    "NO_USER_RESPONSE": CallStatus.NO_ANSWER,
    "SUBSCRIBER_ABSENT": CallStatus.NO_ANSWER,
    "CALL_REJECTED": CallStatus.REJECTED,
    "ORIGINATOR_CANCEL": CallStatus.CANCELED,
    "LOSE_RACE": CallStatus.CANCELED,
    "UNALLOCATED_NUMBER": CallStatus.FAILED,
    "NORMAL_TEMPORARY_FAILURE": CallStatus.FAILED,
    "RECOVERY_ON_TIMER_EXPIRE": CallStatus.FAILED,
    "SERVICE_UNAVAILABLE": CallStatus.FAILED,
    "USER_NOT_REGISTERED": CallStatus.FAILED,
}


def answered(event: CallEvent) -> bool:
    """Whether the call was answered: it has a start time and lasted."""
    return event.call_start_time is not None and (event.duration_s or 0) > 0


def classify_q850(event: CallEvent) -> tuple[CallStatus, str | None] | None:
    """The final status for a known Q.850 cause, or None when the cause is unknown. A caller who
    hangs up mid-flow (cancel, no answer after answering) is still a completed call."""
    cause = event.hangup_cause
    if cause is None or cause not in Q850_STATUS:
        return None
    status = Q850_STATUS[cause]
    if answered(event) and status in (CallStatus.CANCELED, CallStatus.NO_ANSWER):
        status = CallStatus.COMPLETED
    return status, cause


def classify_by_duration(event: CallEvent) -> tuple[CallStatus, str]:
    """The last resort for an unknown cause: a call that lasted is ``completed``, else ``failed``."""
    if answered(event):
        return CallStatus.COMPLETED, event.hangup_cause or "NORMAL_CLEARING"
    return CallStatus.FAILED, event.hangup_cause or "UNSPECIFIED"


def dial_attempt(
    request: DialRequest,
    caller_id: str,
    *,
    provider: str,
    call_key: str | None,
    status: str,
    raw: Mapping[str, Any],
) -> DialAttempt:
    """The :class:`DialAttempt` for ``request``: accepted when the provider gave a ``call_key``
    (``<provider>:<its call id>``); ``status`` is the provider's word for the outcome (at most 200
    characters kept); ``raw`` its answer."""
    return DialAttempt(
        request_id=request.request_id,
        call_id=request.call_id,
        tenant_id=request.tenant_id,
        attempt=request.attempt,
        provider=provider,
        account=request.account,
        call_key=call_key,
        accepted=call_key is not None,
        provider_status=status[:200],
        provider_response=dict(raw),
        to=request.to,
        caller_id=caller_id,
        flow=request.flow,
        campaign_id=request.campaign_id,
        session_data=request.session_data,
        status_callback=request.status_callback,
        requested_at=request.requested_at,
    )


class ProviderClient(Protocol):
    """A REST client for one account."""

    async def place_call(self, request: DialRequest, caller_id: str) -> DialAttempt:
        """Ask the provider to place ``request`` from ``caller_id`` (E.164). A refusal is an attempt
        with ``accepted=False``; raises :class:`~switchboard.errors.ProviderError` only when the
        request surely did not reach the provider (safe to retry)."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class MessageCalls(Protocol):
    """A client of a provider that takes a whole flow as one message (``Capabilities.one_message``:
    Infobip). ``place_flow`` compiles ``flow`` with the call's ``state`` (its data: session data,
    numbers) and sends it; a flow that cannot be one message is a refused attempt."""

    async def place_flow(self, request: DialRequest, caller_id: str, flow: Flow, state: CallState) -> DialAttempt: ...


@runtime_checkable
class ReportSource(Protocol):
    """A client of a provider whose outcomes can be fetched, not only pushed (Infobip: reports
    pulled once, logs for 48 h). ``pull_events``: what the provider held for a pull, as parsed
    callbacks (each served once: the caller must record them at once); ``lookup_events``: the
    final outcome of these calls (provider session ids), from a source that can be read again."""

    async def pull_events(self, account: Account) -> list[ParsedCallback]: ...

    async def lookup_events(self, session_ids: Sequence[str], account: Account) -> list[ParsedCallback]: ...


@dataclass(frozen=True)
class TransferOutcome:
    """``ok``: the provider moved the call; ``status``/``error``: its words."""

    ok: bool
    status: str
    error: str | None = None


@dataclass(frozen=True)
class QueuedCalls:
    """Callers waiting in one queue: ``num_calls`` on ``phone_number`` (queue ``queue_name``)."""

    phone_number: str
    queue_name: str | None
    num_calls: int


@runtime_checkable
class CallTransfer(Protocol):
    """Move a live bridged call to another number (Africa's Talking ``/callTransfer``)."""

    async def transfer(
        self, *, session_id: str, phone_number: str, call_leg: str, hold_music_url: str | None
    ) -> TransferOutcome: ...


@runtime_checkable
class QueueStatus(Protocol):
    """Callers waiting per queue (Africa's Talking ``/queueStatus``)."""

    async def queued_calls(self, phone_numbers: Sequence[str]) -> list[QueuedCalls]: ...


@runtime_checkable
class MediaUpload(Protocol):
    """Make a media URL playable on a number (Africa's Talking ``/mediaUpload``)."""

    async def upload_media(self, *, phone_number: str, url: str) -> None: ...


class Provider(Protocol):
    """One provider's whole adapter. See the module docstring for who calls what.

    ``name``: the registry key and the prefix of call keys (``<name>:<provider call id>``);
    ``uses_callback_urls``: whether replies name the URL the provider posts back to (True) or the
    provider calls its configured URL by itself (False).
    """

    name: str
    display_name: str
    capabilities: Capabilities
    callback_routes: tuple[CallbackRoute, ...]
    uses_callback_urls: bool

    def parse(self, request: CallbackRequest) -> ParsedCallback:
        """Raises :class:`~switchboard.errors.InvalidEvent` naming the field on bad input and
        :class:`~switchboard.errors.AuthenticationFailed` on a bad signature."""
        ...

    def render(
        self, actions: Sequence[ProviderAction], *, reply_seq: int = 0, caller_id: str | None = None
    ) -> list[Reply]:
        """The replies for one batch, in order: one for providers that run a list per reply, one
        per action for those that take a single action (the runner answers with the first and
        keeps the rest). ``reply_seq`` numbers the call's replies (names collected input);
        ``caller_id`` is what a bridge presents. Raises :class:`~switchboard.errors.FlowError`
        for an action the provider cannot carry out."""
        ...

    def fallback(self, url: str, policy: FallbackPolicy) -> Reply:
        """What a caller hears when the reply for the callback at ``url`` is late (never silence)."""
        ...

    def ack(self, source: CallbackSource) -> Reply:
        """The answer to a callback that needs no actions (notifications, end of call)."""
        ...

    def classify_end(self, event: CallEvent) -> tuple[CallStatus, str | None]:
        """Switchboard's final status and normalised hangup cause for a ``call.ended`` event."""
        ...

    def default_account(self) -> Account | None:
        """The ``default`` account from this provider's environment settings, None when unset."""
        ...

    def client(self, account: Account) -> ProviderClient:
        """A new REST client for ``account`` (the caller closes it)."""
        ...


@dataclass
class ProviderRegistry(Mapping[str, Provider]):
    """Providers by name. ``[name]`` raises ``KeyError`` naming the known ones."""

    providers: dict[str, Provider] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Provider:
        try:
            return self.providers[name]
        except KeyError:
            raise KeyError(f"unknown provider {name!r}; known: {', '.join(sorted(self.providers))}") from None

    def __iter__(self) -> Any:
        return iter(self.providers)

    def __len__(self) -> int:
        return len(self.providers)
