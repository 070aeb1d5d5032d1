"""Per-call state in Redis (ARCHITECTURE §3) and the reply path of §4.

``CallState`` is the whole state of one live call, so any flow-runner replica can take its next
event. :class:`StateStore` saves it with an optimistic compare-and-set on ``version`` (one Lua
script), so two writers can never silently overwrite each other; the loser gets
:class:`StateConflict` and its event is retried from a fresh load.

Crash story behind ``applied_events``: the runner saves state, pushes the reply and only then
commits the Kafka offset. A crash between the save and the commit redelivers events that were
already applied; the runner sees their ids here and skips them (re-pushing the cached reply).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from redis.asyncio import Redis

from switchboard.events import Direction, utcnow
from switchboard.redis import as_bytes, call_id_key, call_state_key, reply_cache_key, reply_key

APPLIED_EVENTS_KEPT = 64
Status = Literal["dialing", "ringing", "active", "ended"]


class _Waiting(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WaitingForDigits(_Waiting):
    """COLLECT: the caller's DTMF digits. They go to ``CallState.digits`` and
    ``collected[name]``, without the trailing ``finish_on_key`` (``#``, ``*`` or a digit)."""

    action: Literal["COLLECT"] = "COLLECT"
    name: str
    finish_on_key: str | None = None


class WaitingForRecording(_Waiting):
    """RECORD (partial): the recording's URL. It goes to ``recording_url`` and ``recordings[name]``."""

    action: Literal["RECORD"] = "RECORD"
    name: str


class WaitingForDial(_Waiting):
    """DIAL or TRANSFER bridging the caller: the provider comes back when nobody answered."""

    action: Literal["DIAL"] = "DIAL"


class WaitingInQueue(_Waiting):
    """QUEUE: the caller waits in a call queue until an agent dequeues them."""

    action: Literal["QUEUE"] = "QUEUE"


class WaitingForDequeue(_Waiting):
    """DEQUEUE: an agent is connected to the caller at the head of a queue."""

    action: Literal["DEQUEUE"] = "DEQUEUE"


class WaitingInConference(_Waiting):
    """CONFERENCE: the caller is in a conference room until they leave it."""

    action: Literal["CONFERENCE"] = "CONFERENCE"


class WaitingForWebhook(_Waiting):
    """WEBHOOK: the customer application's answer to a request to ``url``; saved as
    ``$webhook.<save_as>`` when ``save_as`` is set."""

    action: Literal["WEBHOOK"] = "WEBHOOK"
    url: str
    save_as: str | None = None


class WaitingForRedirect(_Waiting):
    """REDIRECT: the action list a customer application at ``url`` answers, or the flow named
    ``flow`` (exactly one of them is set)."""

    action: Literal["REDIRECT"] = "REDIRECT"
    url: str | None = None
    flow: str | None = None


Waiting = Annotated[
    WaitingForDigits
    | WaitingForRecording
    | WaitingForDial
    | WaitingInQueue
    | WaitingForDequeue
    | WaitingInConference
    | WaitingForWebhook
    | WaitingForRedirect,
    Field(discriminator="action"),
]
"""What a call waits for after a reply: the provider coming back, or the answer of a fetch. Stored
in Redis as JSON, tagged by ``action`` (the flow-language type that waits; TRANSFER waits as a
DIAL), e.g. ``{"action": "COLLECT", "name": "menu", "finish_on_key": "#"}``."""


class CallState(BaseModel):
    """Everything the flow-runner needs between two callbacks of one call.

    ``flow_ref`` is what the call runs: a flow's name (``survey``) or the URL of a customer
    application (a dynamic flow, ``https://app.example.test/ivr``); events and CDRs carry it as
    ``flow_id``. ``pc`` is the path of the next action to run: indexes and branch names from the
    flow's top level, e.g. ``[3, "then", 1]`` = ``actions[3].then[1]``; ``None`` once the flow is
    finished. ``waiting`` is what the call waits for (:data:`Waiting`); None when nothing is.
    ``digits`` are the DTMF digits of the last COLLECT (``$keyPresses``). ``reply_seq`` counts the
    replies that wait for the caller; it is put in callback URLs as ``?step=N`` and made part of
    the duplicate key (Africa's Talking spec §6 item 5 alone cannot tell two identical answers to
    two questions apart; ARCHITECTURE §10 item 2).

    Fields renamed since states were first stored are still read under their old names
    (``flow_id``, ``key_presses``, ``step``), so a call in progress survives a deploy.
    """

    call_key: str
    call_id: str | None = None
    provider: str
    account: str = "default"
    direction: Direction
    caller_number: str = ""
    destination_number: str = ""
    flow_ref: str | None = Field(default=None, validation_alias=AliasChoices("flow_ref", "flow_id"))
    flow_version: str | None = None
    pc: list[int | str] | None = Field(default_factory=lambda: list[int | str]([0]))
    variables: dict[str, Any] = Field(default_factory=dict)
    session_data: dict[str, Any] = Field(default_factory=dict)
    digits: str | None = Field(default=None, validation_alias=AliasChoices("digits", "key_presses"))
    collected: dict[str, str] = Field(default_factory=dict)
    recordings: dict[str, str] = Field(default_factory=dict)
    recording_url: str | None = None
    waiting: Waiting | None = None
    reply_seq: int = Field(default=0, validation_alias=AliasChoices("reply_seq", "step"))
    status: Status = "active"
    campaign_id: str | None = None
    attempt: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    answered_at: datetime | None = None
    applied_events: list[str] = Field(default_factory=list)
    flow_error: str | None = None
    loops: dict[str, dict[str, Any]] = Field(default_factory=dict, description="FOREACH state by pointer")
    dynamic_doc: dict[str, Any] | None = Field(default=None, description="flow fetched from a customer app")
    pending_replies: list[str] = Field(default_factory=list, description="one-action providers: replies to come")
    last_reply_event: str | None = Field(default=None, description="event id of the last reply")
    last_reply: str | None = Field(default=None, description="that reply, packed (content type, body)")
    version: int = 0

    def mark_applied(self, event_id: str) -> None:
        self.applied_events = [*self.applied_events, event_id][-APPLIED_EVENTS_KEPT:]


class StateConflict(Exception):
    """Another writer saved this call's state since it was loaded."""


# KEYS[1] state key; ARGV: expected version, new JSON, TTL seconds.
_CAS = """
local cur = redis.call('GET', KEYS[1])
local expected = tonumber(ARGV[1])
if cur then
  local v = cjson.decode(cur)['version']
  if v ~= expected then return 0 end
elseif expected ~= 0 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
return 1
"""


class StateStore:
    """Load and save :class:`CallState` under ``sb:call:{<call key>}``.

    ``ttl_s`` is the longest a call may live plus a margin (default 4 h).
    """

    def __init__(self, redis: Redis, *, ttl_s: int = 4 * 3600) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self._cas = redis.register_script(_CAS)

    async def load(self, call_key: str) -> CallState | None:
        raw = await self.redis.get(call_state_key(call_key))
        return None if raw is None else CallState.model_validate_json(raw)

    async def save(self, state: CallState) -> CallState:
        """Save ``state`` if nobody saved since it was loaded; returns it with ``version + 1``.

        Raises :class:`StateConflict` otherwise (and for a create when the key already exists).
        """
        new = state.model_copy(update={"version": state.version + 1})
        ok = await self._cas(
            keys=[call_state_key(state.call_key)],
            args=[state.version, new.model_dump_json(), self.ttl_s],
        )
        if not ok:
            raise StateConflict(state.call_key)
        return new

    async def create_if_absent(self, state: CallState) -> bool:
        """Write a brand-new state (version 0 → 1). False if one exists already."""
        try:
            await self.save(state.model_copy(update={"version": 0}))
        except StateConflict:
            return False
        return True

    async def link_call_id(self, call_id: str, call_key: str) -> None:
        """Remember which call key Switchboard's ``call_id`` is (``sb:callid:<id>``, state TTL)."""
        await self.redis.set(call_id_key(call_id), call_key, ex=self.ttl_s)

    async def call_key_of(self, call_id: str) -> str | None:
        raw = await self.redis.get(call_id_key(call_id))
        return None if raw is None else as_bytes(raw).decode()

    async def expire_soon(self, call_key: str, ttl_s: int = 600) -> None:
        """Keep an ended call's state a little longer, for late duplicates."""
        await self.redis.expire(call_state_key(call_key), ttl_s)


# --- the synchronous reply path (ARCHITECTURE §4) -------------------------------------------


def pack_reply(body: bytes, content_type: str) -> bytes:
    return content_type.encode() + b"\n" + body


def unpack_reply(packed: bytes) -> tuple[bytes, str]:
    content_type, _, body = packed.partition(b"\n")
    return body, content_type.decode()


async def push_reply(
    redis: Redis,
    event_id: str,
    body: bytes,
    content_type: str,
    *,
    ttl_s: int = 30,
    cache_ttl_s: int = 3600,
) -> None:
    """Hand one rendered reply to the ingress request waiting on ``sb:reply:{event_id}`` and keep
    a copy (``sb:replied:{event_id}``) for duplicates of the same callback."""
    packed = pack_reply(body, content_type)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(reply_key(event_id), packed)
        pipe.expire(reply_key(event_id), ttl_s)
        pipe.set(reply_cache_key(event_id), packed, ex=cache_ttl_s)
        await pipe.execute()


async def wait_reply(redis: Redis, event_id: str, timeout_s: float) -> tuple[bytes, str] | None:
    """Block up to ``timeout_s`` for the reply of ``event_id``; None past the deadline."""
    got = await redis.blpop([reply_key(event_id)], timeout=timeout_s)
    if got is None:
        return None
    return unpack_reply(as_bytes(got[1]))


async def cached_reply(redis: Redis, event_id: str) -> tuple[bytes, str] | None:
    raw = await redis.get(reply_cache_key(event_id))
    return None if raw is None else unpack_reply(as_bytes(raw))
