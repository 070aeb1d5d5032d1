"""The events on Kafka (ARCHITECTURE §2), as versioned pydantic models.

Rules (STYLE §4): every event has ``schema_version``; a new version is a new model, never an edit
in place; example payloads live in ``switchboard/examples/<Model>.v<N>.json`` and the contract test
round-trips each of them. Serialisation is orjson (:func:`encode` / :func:`decode`).

Tenants: :class:`DialRequest`, :class:`DialAttempt`, :class:`SessionEnded` and
:class:`FlowErrorEvent` carry ``tenant_id``
as an optional field defaulting to :data:`DEFAULT_TENANT` rather than as a v2 model. A v1 record
without it (written before tenants) still decodes, as the default tenant's, so consumers read old
and new records alike; the cost: a consumer built before the field (``extra="forbid"``) refuses a
record that has it, so consumers (dialer, flow-runner, cdr-sink) are deployed before the api.

Times are UTC ``datetime``s; durations are whole seconds (``*_s``); money is a decimal string in
the provider's currency (``cost`` + ``currency``), never a float.

Bounds: every field that reaches the ``cdrs`` table (cdr-sink ``schema.py``) carries the column's
bound here (``varchar(n)`` lengths, ``integer`` and ``numeric(14, 4)`` ranges, no U+0000, which
PostgreSQL text cannot hold), so a :class:`SessionEnded` these models accept is a row PostgreSQL
accepts. The provider parsers check the same bounds at the edge (:mod:`switchboard.providers.fields`)
and name the field; the cdr-sink's isolation of refused rows is the safety net, not the first line.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

NO_NUL = r"^[^\x00]*$"
"""PostgreSQL ``text``/``varchar``/``jsonb`` refuse U+0000."""
MAX_DURATION_S = 7 * 24 * 3600
"""Longest call duration accepted (a week, in seconds): beyond it is a unit or clock error."""
MAX_DIGITS = 128
"""Most DTMF keys in one input (a COLLECT's ``num_digits`` is at most 64)."""
MAX_COST = Decimal("9999999999.9999")
"""Largest cost ``numeric(14, 4)`` holds."""
MAX_URL = 2048
INT32_MAX = 2**31 - 1
MAX_TRAIL = 256
"""Most entries in a call's step trail (``SessionEnded.trail``); the flow-runner keeps the first
``MAX_TRAIL - 1`` and marks the cut with one ``{"k": "cut"}`` entry."""

Text32 = Annotated[str, StringConstraints(max_length=32, pattern=NO_NUL)]
Text64 = Annotated[str, StringConstraints(max_length=64, pattern=NO_NUL)]
Text128 = Annotated[str, StringConstraints(max_length=128, pattern=NO_NUL)]
Text200 = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
Url = Annotated[str, StringConstraints(max_length=MAX_URL, pattern=NO_NUL)]
SessionId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NO_NUL)]
"""A provider's call/session id (AT ``sessionId``, Voxology ``call_id``, Telesign ``reference_id``)."""
DtmfDigits = Annotated[str, StringConstraints(max_length=MAX_DIGITS, pattern=r"^[0-9A-Da-d*#]*$")]
"""Keys pressed: ``0-9``, ``*``, ``#``, ``A-D``; empty when nothing was pressed."""
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""ISO 4217 code, upper case."""
DurationS = Annotated[int, Field(ge=0, le=MAX_DURATION_S)]
Cost = Annotated[Decimal, Field(ge=0, le=MAX_COST, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
YEARS = (1970, 2999)
"""Years a timestamp may fall in (in UTC). Beyond them is a clock or parsing error; at the very
ends of ``datetime``'s range the conversion to UTC for ``timestamptz`` overflows."""


def in_years(value: datetime) -> datetime:
    """``value`` when it falls in :data:`YEARS` (naive values are taken as UTC), else ``ValueError``."""
    if YEARS[0] < value.year < YEARS[1]:  # an offset is under a day: no year boundary to check
        return value
    try:
        year = value.astimezone(UTC).year if value.tzinfo else value.year
    except OverflowError:
        year = 0
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValueError(f"a time must fall in the years {YEARS[0]} to {YEARS[1]} (UTC)")
    return value


Timestamp = Annotated[datetime, AfterValidator(in_years)]


def without_nul(value: Any) -> Any:
    """``value`` (JSON-like: str, list, dict) with every U+0000 replaced by U+FFFD, keys included.

    Free-form data (session data, collected inputs, a flow error message) is kept rather than
    refused for a character PostgreSQL cannot store. Values without one are returned as they are
    after one C-speed scan of their JSON form (the walk in Python was 17 % of the cdr-sink's time)."""
    if isinstance(value, dict | list):
        try:
            if b"\\u0000" not in orjson.dumps(value, default=str):
                return value
        except TypeError:  # keys orjson cannot write: the walk decides
            pass
    return _replace_nul(value)


def _replace_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_replace_nul(k): _replace_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace_nul(v) for v in value]
    return value


DEFAULT_TENANT = "default"
"""The tenant of everything that names none: events from before tenants, today's single-folder
set-up (``flows/``, the default provider accounts) and inbound calls."""


def new_id() -> str:
    """A new random id (UUID4 hex string with dashes)."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallEventType(StrEnum):
    """Normalised kinds of provider notification."""

    CALL_RINGING = "call.ringing"
    CALL_STARTED = "call.started"
    INPUT_RECEIVED = "input.received"
    RECORDING_RECEIVED = "recording.received"
    CALL_PROGRESS = "call.progress"
    CALL_TRANSFERRED = "call.transferred"
    DIAL_LEG_ENDED = "dial.leg-ended"
    CALL_ENDED = "call.ended"


class CallStatus(StrEnum):
    """Final status of a call, in Twilio's vocabulary (what call centres already report on)."""

    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"
    REJECTED = "rejected"


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CallEvent(_Event):
    """One provider notification about a live call, normalised.

    Producer: webhook-ingress. Consumer: flow-runner. Topic ``voice.call-events``, key ``call_key``.
    ``event_id`` is minted by the ingress per accepted (non-duplicate) callback; the flow-runner
    stores and publishes its reply (switchboard.replies) when ``expects_reply`` is true. ``raw`` keeps every
    field of the provider's payload as received (unknown fields included).

    ``raw_invalid`` (end-of-call notifications only): provider field name → raw value of each field
    that was out of bounds; that field is null (numbers: ``""``) here, so the call still ends and its
    CDR still lands. A live callback with such a field is refused instead (``InvalidEvent``).
    """

    schema_version: Literal[1] = 1
    event_id: str = Field(default_factory=new_id)
    type: CallEventType
    provider: Text32
    account: Text64 = "default"
    call_key: Text200 = Field(description="'<provider>:<provider session id>'")
    session_id: SessionId
    call_id: Text64 | None = Field(default=None, description="Switchboard call id when echoed back")
    direction: Direction
    caller_number: Text64 = ""
    destination_number: Text64 = ""
    digits: DtmfDigits | None = None
    recording_url: Url | None = None
    provider_state: Text64 | None = Field(default=None, description="e.g. AT callSessionState")
    provider_status: Text64 | None = None
    hangup_cause: Text64 | None = Field(default=None, description="provider's raw hangup cause")
    duration_s: DurationS | None = None
    cost: Cost | None = None
    currency: Currency | None = None
    call_start_time: Timestamp | None = None
    dial_destination_number: Text64 | None = None
    dial_duration_s: DurationS | None = None
    expects_reply: bool = False
    received_at: Timestamp = Field(default_factory=utcnow)
    raw: dict[str, str] = Field(default_factory=dict)
    raw_invalid: dict[str, str] = Field(default_factory=dict, description="field → raw value, out of bounds")


class CampaignPolicy(_Event):
    """How the dialer may place a request's calls. With the request's ``campaign_id`` set, ``cps``
    paces the campaign's calls (shared by every dialer replica) and ``max_concurrent`` caps its live
    calls (:mod:`switchboard.pacing`); without a campaign id both are ignored. ``ring_timeout_s`` is
    applied on Voxology. ``max_attempts`` is accepted but not honoured by the dialer (retries are
    the campaign scheduler's)."""

    cps: float | None = Field(default=None, gt=0, description="calls per second cap")
    max_concurrent: int | None = Field(default=None, ge=1)
    ring_timeout_s: int = Field(default=30, ge=5, le=120)
    max_attempts: int = Field(default=1, ge=1, le=10)


StatusCallbackEvent = Literal["initiated", "ringing", "answered", "completed"]
"""A call's progress a customer's application may ask to be told of (Twilio's
``StatusCallbackEvent`` vocabulary): ``initiated`` the provider accepted the dial (or refused it:
then ``completed`` follows with status ``failed``), ``ringing`` the callee's phone rings (providers
that report it), ``answered`` the call was answered, ``completed`` its CDR was committed (the CDR is
in the body)."""


def _completed_only() -> list[StatusCallbackEvent]:
    return ["completed"]


class StatusCallback(_Event):
    """Where to POST a call's progress (docs/status-callbacks.md): ``url`` (http or https) and the
    ``events`` wanted (default: ``completed`` only, as Twilio). Signed per tenant, retried with
    backoff, delivered in order per call by the notifier."""

    url: Annotated[str, StringConstraints(max_length=MAX_URL, pattern=r"^https?://[^\s\x00]+$")]
    events: list[StatusCallbackEvent] = Field(default_factory=_completed_only, min_length=1, max_length=4)


class DialRequest(_Event):
    """A request to place one outbound call.

    Producers: the REST API and the dialer's campaign scheduler (``contact_id`` and ``attempt``
    set; ``call_id`` and ``idempotency_key`` derived from campaign, contact and attempt, so a
    republished request is the same call). Consumer: dialer. Topic ``voice.dial-requests``, key
    ``campaign_id`` or ``request_id``. ``call_id`` is minted by the API so it can answer before the
    dialer has placed the call; the dialer keys the dial by ``idempotency_key`` (default:
    ``request_id``) so a redelivered request is placed once.
    """

    schema_version: Literal[1] = 1
    request_id: str = Field(default_factory=new_id)
    call_id: str = Field(default_factory=new_id)
    tenant_id: Text64 = Field(default=DEFAULT_TENANT, description="who the call belongs to")
    idempotency_key: str | None = None
    provider: str = "africastalking"
    account: str = "default"
    to: str = Field(description="destination, E.164")
    caller_id: str | None = Field(default=None, description="E.164; default: account's number")
    flow: str = Field(description="flow name from flows/")
    flow_document: dict[str, Any] | None = Field(
        default=None,
        description="a flow document to run instead of the file named by flow (which still names the call's "
        "flow in its state and CDR): a draft tried from the console, as Twilio's inline TwiML; checked by the api",
    )
    session_data: dict[str, Any] = Field(default_factory=dict)
    campaign_id: Text128 | None = None
    contact_id: Text64 | None = Field(default=None, description="the campaign contact this call is for")
    attempt: int = Field(default=1, ge=1, le=INT32_MAX, description="1 for the first call to a contact")
    policy: CampaignPolicy = Field(default_factory=CampaignPolicy)
    tenant_max_live_calls: int | None = Field(
        default=None, ge=1, description="the tenant's live-call cap the dialer enforces; None: counted only"
    )
    status_callback: StatusCallback | None = Field(default=None, description="where to POST the call's progress")
    requested_at: datetime = Field(default_factory=utcnow)

    @property
    def dedupe_key(self) -> str:
        return self.idempotency_key or self.request_id


class DialAttempt(_Event):
    """The outcome of asking the provider to place a call.

    Producer: dialer. Consumers: cdr-sink (rejected attempts become CDRs), analytics.
    Topic ``voice.dial-attempts``, key ``call_key`` (accepted) or ``call_id`` (rejected).
    """

    schema_version: Literal[1] = 1
    request_id: str
    call_id: str
    tenant_id: Text64 = Field(default=DEFAULT_TENANT, description="who the call belongs to")
    attempt: int = 1
    provider: str
    account: str = "default"
    call_key: str | None = Field(default=None, description="set when accepted")
    accepted: bool
    provider_status: str = Field(description="e.g. AT entries[].status: Queued, InvalidPhoneNumber")
    provider_response: dict[str, Any] = Field(default_factory=dict)
    to: str
    caller_id: str
    flow: str
    campaign_id: str | None = None
    session_data: dict[str, Any] = Field(default_factory=dict)
    status_callback: StatusCallback | None = Field(default=None, description="the request's, for the notifier")
    requested_at: Timestamp
    attempted_at: Timestamp = Field(default_factory=utcnow)


class SessionEnded(_Event):
    """Everything a CDR needs, emitted once per call when the provider reports its end.

    Producer: flow-runner. Consumers: cdr-sink (idempotent upsert by ``call_key``), dialer, analytics.
    Topic ``voice.sessions-ended``, key ``call_key``. ``inputs`` maps a COLLECT's name (or
    ``collect_<n>``) to the digits pressed; ``hangup_cause`` is normalised to the AT/Q.850 names,
    ``hangup_cause_raw`` is the provider's own value. ``flow_id`` is what the call ran: a flow's
    name or, for a dynamic flow, the customer application's URL. ``raw_invalid``: the final
    notification's out-of-bounds fields (provider field name → raw value), null in this CDR.

    Bounds are the ``cdrs`` columns' (module docstring): a SessionEnded that validates is a row
    PostgreSQL accepts. U+0000 in free-form data (``inputs``, ``recordings``, ``session_data``,
    ``raw_invalid``, ``flow_error``) becomes U+FFFD instead of refusing the CDR.
    """

    schema_version: Literal[1] = 1
    call_key: Text200
    call_id: Text64 | None = None
    tenant_id: Text64 = Field(default=DEFAULT_TENANT, description="who the call belongs to")
    provider: Text32
    account: Text64 = "default"
    direction: Direction
    caller_number: Text64
    destination_number: Text64
    status: CallStatus
    hangup_cause: Text64 | None = None
    hangup_cause_raw: Text64 | None = None
    started_at: Timestamp | None = Field(default=None, description="answer time, null if never")
    ended_at: Timestamp
    duration_s: DurationS = 0
    cost: Cost | None = None
    currency: Currency | None = None
    flow_id: Url | None = None
    flow_version: Text64 | None = None
    campaign_id: Text128 | None = None
    attempt: Count | None = None
    inputs: dict[str, str] = Field(default_factory=dict)
    recordings: list[str] = Field(default_factory=list)
    session_data: dict[str, Any] = Field(default_factory=dict)
    flow_error: str | None = None
    raw_invalid: dict[str, str] = Field(default_factory=dict)
    trail: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=MAX_TRAIL,
        description="the call's step trail (flow-runner): callbacks received, replies sent, actions run",
    )

    @field_validator("inputs", "recordings", "session_data", "flow_error", "raw_invalid", "trail", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return without_nul(value)


class FlowErrorEvent(_Event):
    """A flow could not go on for a call; the caller heard the apology and the call ended.

    Producer: flow-runner. Consumers: operators, alerting. Topic ``voice.flow-errors``, key
    ``call_key``. ``pointer`` is the JSON pointer of the action that failed (when known);
    ``message`` says why (expression error, broken limit, failed WEBHOOK, invalid dynamic answer).
    ``flow_id``: the flow's name or the customer application's URL. A fault in Switchboard itself is
    never published here (the flow-runner logs and counts it).
    """

    schema_version: Literal[1] = 1
    call_key: str
    call_id: str | None = None
    tenant_id: Text64 = Field(default=DEFAULT_TENANT, description="who the call belongs to")
    provider: str
    flow_id: str | None = None
    flow_version: str | None = None
    pointer: str | None = None
    message: str
    at: datetime = Field(default_factory=utcnow)


class CdrRecorded(_Event):
    """The final CDR of a call, as the ``cdrs`` table holds it once the cdr-sink committed it
    (``docs/cdrs.md`` describes every field, units and sources).

    Producer: cdr-sink, after the database commit. Consumers: analytics. Topic ``voice.cdrs``, key
    ``call_key``. At least once: a replayed batch publishes the CDR again, with the same fields (a
    later copy of one call, e.g. a corrected end, carries a later ``recorded_at``); consumers keep
    the last ``recorded_at`` per ``call_key``. ``call_start`` (UTC) is the partition time of the
    row: ``started_at``, else ``ended_at``, of the first copy landed.
    """

    schema_version: Literal[1] = 1
    call_key: str
    call_start: datetime
    call_id: str | None = None
    tenant_id: str = DEFAULT_TENANT
    provider: str
    account: str = "default"
    direction: Direction
    caller_number: str
    destination_number: str
    status: CallStatus
    hangup_cause: str | None = None
    hangup_cause_raw: str | None = None
    started_at: datetime | None = None
    ended_at: datetime
    duration_s: int = 0
    cost: Decimal | None = None
    currency: str | None = None
    flow_id: str | None = None
    flow_version: str | None = None
    campaign_id: str | None = None
    attempt: int | None = None
    inputs: dict[str, str] = Field(default_factory=dict)
    recordings: list[str] = Field(default_factory=list)
    session_data: dict[str, Any] = Field(default_factory=dict)
    flow_error: str | None = None
    provider_status: str | None = None
    raw_invalid: dict[str, str] = Field(default_factory=dict)
    trail: list[dict[str, Any]] = Field(default_factory=list)
    recorded_at: datetime = Field(default_factory=utcnow, description="when the cdr-sink committed it")


class StatusCallbackPosted(_Event):
    """A status callback: the JSON body the notifier POSTs to a call's ``status_callback`` URL,
    signed (``X-Switchboard-Signature``, docs/status-callbacks.md), and publishes on
    ``voice.status-callbacks`` once the customer's server took it (or on its ``.dlq`` when it was
    given up on). ``sequence`` orders a call's events (initiated 1, ringing 2, answered 3,
    completed 4); ``to`` is the person called on an outbound call, ``from`` the caller ID;
    ``occurred_at`` when Switchboard learnt of it (UTC); ``cdr`` on ``completed`` only.

    Producer: notifier. Topic ``voice.status-callbacks``, key ``call_key``."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True)

    schema_version: Literal[1] = 1
    event: StatusCallbackEvent
    sequence: int = Field(ge=1, le=4)
    call_id: str | None = None
    call_key: str
    tenant_id: str = DEFAULT_TENANT
    provider: str
    direction: Direction
    to: str
    from_: str = Field(alias="from")
    campaign_id: str | None = None
    occurred_at: datetime
    cdr: CdrRecorded | None = None


EVENT_MODELS: tuple[type[_Event], ...] = (
    CallEvent,
    DialRequest,
    DialAttempt,
    SessionEnded,
    FlowErrorEvent,
    CdrRecorded,
    StatusCallbackPosted,
)

E = TypeVar("E", bound=BaseModel)


def encode(event: BaseModel) -> bytes:
    """Serialise an event to JSON bytes (orjson; decimals as strings, datetimes ISO 8601)."""
    return orjson.dumps(event.model_dump(mode="json"))


def decode(model: type[E], data: bytes | str) -> E:
    """Parse and validate JSON bytes into ``model``. Raises ``pydantic.ValidationError``."""
    return model.model_validate_json(data)
