"""Per-call state in Redis (ARCHITECTURE §3); replies to its events go with it (:mod:`switchboard.replies`).

``CallState`` is the whole state of one live call, so any flow-runner replica can take its next
event. :class:`StateStore` saves it with an optimistic compare-and-set on ``version`` (one Lua
script), so two writers can never silently overwrite each other; the loser gets
:class:`StateConflict` and its event is retried from a fresh load.

Crash story behind ``applied_events``: the runner saves state with the reply (one script) and only
then commits the Kafka offset. A crash between the save and the commit redelivers events that were
already applied; the runner sees their ids here and skips them (their reply is stored and was
published already).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from redis.asyncio import Redis

from switchboard.events import DEFAULT_TENANT, Direction, utcnow
from switchboard.providers.base import Reply
from switchboard.redis import as_bytes, call_id_key, call_starts_key, call_state_key, live_calls_key
from switchboard.replies import ReplyWriter

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
    tenant_id: str = DEFAULT_TENANT
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
    trail: list[dict[str, Any]] = Field(default_factory=list, description="step trail, see switchboard.trail")
    version: int = 0

    def clone(self) -> CallState:
        """A deep copy, through its JSON form: what is stored in Redis anyway, and about 4x cheaper
        than ``model_copy(deep=True)`` (copy.deepcopy walks every nested value in Python; 25 µs
        against 93 µs for a typical state, measured with timeit)."""
        return CallState.model_validate_json(self.model_dump_json())

    def mark_applied(self, event_id: str) -> None:
        self.applied_events = [*self.applied_events, event_id][-APPLIED_EVENTS_KEPT:]


class StateConflict(Exception):
    """Another writer saved this call's state since it was loaded."""


class StateStore:
    """Load and save :class:`CallState` under ``sb:call:{<call key>}``.

    ``ttl_s`` is the longest a call may live plus a margin (default 4 h).
    """

    def __init__(self, redis: Redis, *, ttl_s: int = 4 * 3600) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self._writer = ReplyWriter(redis)

    async def load(self, call_key: str) -> CallState | None:
        raw = await self.redis.get(call_state_key(call_key))
        return None if raw is None else CallState.model_validate_json(raw)

    async def save(
        self, state: CallState, *, reply_to: str | None = None, reply: Reply | None = None, link_call_id: bool = False
    ) -> CallState:
        """Save ``state`` if nobody saved since it was loaded; returns it with ``version + 1``. In
        the same round trip (:class:`~switchboard.replies.ReplyWriter`): store and publish ``reply``
        as the answer to event ``reply_to``, and with ``link_call_id`` link ``state.call_id`` to the
        call key.

        Raises :class:`StateConflict`, having written nothing, when another writer saved first
        (and for a create when the key already exists).
        """
        new = state.model_copy(update={"version": state.version + 1})
        ok = await self._writer.save(
            state_key=call_state_key(state.call_key),
            expected_version=state.version,
            state_json=new.model_dump_json().encode(),
            state_ttl_s=self.ttl_s,
            call_key=state.call_key,
            event_id=reply_to,
            reply=reply,
            link_key=call_id_key(state.call_id) if link_call_id and state.call_id else None,
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

    async def mark_live(self, state: CallState) -> bool:
        """Put the call in its tenant's live set (``sb:live:{tenant}``, the console's live view)
        unless it is there already, and count it as a call start of this second. The dialer
        calls it when a provider accepts a call, the flow-runner when it creates a call's state
        (inbound calls): one round trip per call, not per turn. True when the call was new to the
        set."""
        if not await self.redis.zadd(
            live_calls_key(state.tenant_id), {state.call_key: state.created_at.timestamp()}, nx=True
        ):
            return False
        starts = call_starts_key(state.tenant_id, int(time.time()))
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(starts)
            pipe.expire(starts, 120)
            await pipe.execute()
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
