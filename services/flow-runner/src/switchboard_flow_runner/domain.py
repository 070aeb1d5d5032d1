"""What the flow-runner does with one CallEvent, as pure functions (STYLE §5).

- :func:`new_inbound_state`: the state of a call we have not seen (route by the dialled number).
- :func:`apply_event`: run the flow for a live callback → new state + provider actions.
- :func:`take_turn` / :func:`continue_turn`: one live callback's whole turn: the new state, the
  rendered reply (through the provider contract), the events to publish, and the I/O still to do.
- :func:`replay_message`: what a call compiled into one message did, from its report (Infobip).
- :func:`session_ended`: the CDR-ready :class:`SessionEnded` for a call's final notification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import assert_never

from pydantic import BaseModel

from switchboard import trail
from switchboard.errors import FlowError
from switchboard.events import (
    DEFAULT_TENANT,
    CallEvent,
    CallEventType,
    CallStatus,
    DialRequest,
    FlowErrorEvent,
    SessionEnded,
    new_id,
)
from switchboard.flow.actions.base import EngineSettings, FetchAnswer, FetchRequest, PlaceCall
from switchboard.flow.document import Flow
from switchboard.flow.interpreter import FlowFault, Transition, fail, run
from switchboard.providers import PROVIDERS
from switchboard.providers.actions import Hangup, Say
from switchboard.providers.base import Reply
from switchboard.replies import pack, unpack
from switchboard.state import CallState
from switchboard.topics import Topic

LIVE_TYPES = {CallEventType.CALL_STARTED, CallEventType.INPUT_RECEIVED, CallEventType.RECORDING_RECEIVED}


def new_inbound_state(event: CallEvent, flow_name: str | None, tenant_id: str = DEFAULT_TENANT) -> CallState:
    """The state of an inbound call's first callback: ``flow_name`` and ``tenant_id`` from the
    routes (``FlowRepository.route_call``)."""
    return CallState(
        tenant_id=tenant_id,
        call_key=event.call_key,
        provider=event.provider,
        account=event.account,
        direction=event.direction,
        caller_number=event.caller_number,
        destination_number=event.destination_number,
        flow_ref=flow_name,
        call_id=event.call_id or new_id(),
    )


def apply_event(state: CallState, event: CallEvent, flow: Flow | None, settings: EngineSettings) -> Transition:
    """Run ``flow`` for a live callback. A missing flow, or a call whose flow is finished, gets
    the apology (never silence)."""
    # Scalars only are changed here, on a shallow copy; ``run`` (or the branches below) deep-copy
    # before anything nested changes, so ``state`` itself is never touched.
    state = state.model_copy(
        update={"answered_at": state.answered_at or event.call_start_time or event.received_at, "status": "active"}
    )
    if flow is None:
        state = state.clone()
        state.flow_error = f"no flow {state.flow_ref!r} for this call"
        return Transition(
            state, [Say(text=settings.error_message), Hangup()], ended=True, error=FlowFault(state.flow_error)
        )
    if state.flow_version is None:
        state.flow_version = flow.version
    if state.pc is None:  # flow already finished: a late callback just ends the call
        return Transition(state.clone(), [Hangup()], ended=True)
    return run(flow, state, event, settings)


@dataclass(frozen=True)
class Outgoing:
    """An event to publish: ``topic``, partition ``key`` and the event model."""

    topic: Topic
    key: bytes
    event: BaseModel


@dataclass
class Turn:
    """One live callback's turn. ``state``: what to save (the event marked applied); ``reply``: the
    answer to the event (one of Telesign's single-action replies; the rest stay pending in the
    state); ``outgoing``: events to publish (dial legs, flow errors); ``fetch``: I/O the flow
    still needs, answered through :func:`continue_turn`; ``internal_error``: a bug of ours ended
    the call (the caller got the apology)."""

    state: CallState
    reply: Reply
    outgoing: list[Outgoing] = field(default_factory=list)
    fetch: FetchRequest | None = None
    internal_error: bool = False
    transition: Transition | None = None
    fetches: int = 0


def take_turn(state: CallState, event: CallEvent, flow: Flow | None, engine: EngineSettings) -> Turn:
    """The turn for a live callback (pure). A one-action provider's pending reply is released
    first; otherwise the flow runs (:func:`apply_event`) and its actions are rendered."""
    if state.pending_replies:  # one-action providers: the batch is not played out yet
        state = state.clone()
        first, *rest = state.pending_replies
        state.pending_replies = rest
        state.mark_applied(event.event_id)
        state.trail = trail.extend(state.trail, trail.turn(event, (), 1))
        return Turn(state, unpack(first.encode()))
    return _finish(apply_event(state, event, flow, engine), event, engine, 0)


def continue_turn(turn: Turn, answer: FetchAnswer, event: CallEvent, engine: EngineSettings) -> Turn:
    """Go on with ``turn`` once its fetch is answered (pure); more than ``engine.max_fetches`` in
    one callback ends the call with the apology."""
    before = turn.transition
    assert before is not None and before.flow is not None
    fetches = turn.fetches + 1
    if fetches > engine.max_fetches:
        fault = FlowFault(f"more than {engine.max_fetches} WEBHOOK/REDIRECT requests in one callback")
        return _finish(fail(before, fault, engine), event, engine, fetches)
    after = run(before.flow, before.state, None, engine, answer=answer)
    after.actions = [*before.actions, *after.actions]
    after.effects = [*before.effects, *after.effects]
    after.ran = [*before.ran, *after.ran]
    return _finish(after, event, engine, fetches)


def _finish(transition: Transition, event: CallEvent, engine: EngineSettings, fetches: int) -> Turn:
    state = transition.state
    if transition.fetch is not None and not transition.ended:
        return Turn(state, Reply(b"", ""), fetch=transition.fetch, transition=transition, fetches=fetches)
    provider = PROVIDERS[state.provider]
    try:
        replies = provider.render(transition.actions, reply_seq=state.reply_seq, caller_id=state.caller_number)
    except FlowError as exc:  # an action the provider lacks: end politely, never silence
        state.flow_error = str(exc)
        replies = provider.render([Say(text=engine.error_message), Hangup()])
    first = replies[0] if replies else Reply(b"{}", "application/json")
    state.pending_replies = [pack(r).decode() for r in replies[1:]]
    state.mark_applied(event.event_id)
    state.trail = trail.extend(state.trail, trail.turn(event, transition.ran, len(transition.actions)))
    outgoing = [_effect(state, event, n, effect) for n, effect in enumerate(transition.effects)]
    if transition.error is not None:
        outgoing.append(_flow_error(state, transition.error))
    return Turn(state, first, outgoing, internal_error=transition.internal_error)


def _effect(state: CallState, event: CallEvent, n: int, effect: PlaceCall) -> Outgoing:
    """An effect as the event to publish. Effects go out before the state is saved, so a
    redelivered event runs them again: each dial request's idempotency key is the event id and the
    effect's position, and the dialer places a key once."""
    match effect:
        case PlaceCall():
            request = DialRequest(
                idempotency_key=f"{event.event_id}:{n}",
                tenant_id=state.tenant_id,
                to=effect.to,
                flow=effect.flow,
                session_data=effect.session_data,
                caller_id=effect.caller_id,
                provider=state.provider,
                account=state.account,
                campaign_id=state.campaign_id,
            )
            return Outgoing(Topic.DIAL_REQUESTS, request.request_id.encode(), request)
        case _:
            assert_never(effect)


def _flow_error(state: CallState, fault: FlowFault) -> Outgoing:
    event = FlowErrorEvent(
        call_key=state.call_key,
        call_id=state.call_id,
        tenant_id=state.tenant_id,
        provider=state.provider,
        flow_id=state.flow_ref,
        flow_version=state.flow_version,
        pointer=fault.pointer,
        message=fault.message,
    )
    return Outgoing(Topic.FLOW_ERRORS, state.call_key.encode(), event)


def replay_message(state: CallState, event: CallEvent, flow: Flow | None, engine: EngineSettings) -> CallState:
    """A call that was its flow compiled into one message (``Capabilities.one_message``: Infobip)
    ends with one report: run the flow now as it was played, so the CDR has what the other
    providers' calls have (inputs, session data, step trail): the first turn (what the message
    said, up to its COLLECT), then the keys pressed (``event.digits``; none when the call was not
    answered or the collect was never reached), then what follows (SET, SESSIONDATA run here; the
    compiler allowed nothing that speaks). Pure; ``state`` is not changed."""
    if flow is None or state.pc is None or event.call_start_time is None:
        return state
    start = event.model_copy(update={"type": CallEventType.CALL_STARTED, "digits": None, "event_id": new_id()})
    t = apply_event(state, start, flow, engine)
    replayed = t.state
    replayed.trail = trail.extend(replayed.trail, trail.turn(start, t.ran, len(t.actions)))
    if not t.ended and event.digits is not None:
        keys = event.model_copy(update={"type": CallEventType.INPUT_RECEIVED, "event_id": new_id()})
        t = run(flow, replayed, keys, engine)
        replayed = t.state
        replayed.trail = trail.extend(replayed.trail, trail.turn(keys, t.ran, len(t.actions)))
    if t.error is not None:
        replayed.flow_error = t.error.message
    return replayed


def session_ended(state: CallState | None, event: CallEvent) -> SessionEnded:
    """The CDR of a call from its final notification and whatever state we kept."""
    status, cause = PROVIDERS[event.provider].classify_end(event)
    inputs = dict(state.collected) if state else {}
    return SessionEnded(
        call_key=event.call_key,
        call_id=(state.call_id if state else None) or event.call_id,
        tenant_id=state.tenant_id if state else DEFAULT_TENANT,
        provider=event.provider,
        account=event.account,
        direction=event.direction,
        caller_number=event.caller_number,
        destination_number=event.destination_number,
        status=status,
        hangup_cause=cause,
        hangup_cause_raw=event.hangup_cause,
        started_at=event.call_start_time if status is CallStatus.COMPLETED else None,
        ended_at=event.received_at,
        duration_s=event.duration_s or 0,
        cost=event.cost,
        currency=event.currency,
        flow_id=state.flow_ref if state else None,
        flow_version=state.flow_version if state else None,
        campaign_id=state.campaign_id if state else None,
        attempt=state.attempt if state else None,
        inputs=inputs,
        recordings=[
            *(state.recordings.values() if state else []),
            *([event.recording_url] if event.recording_url else []),
        ],
        session_data=dict(state.session_data) if state else {},
        flow_error=state.flow_error if state else None,
        raw_invalid=dict(event.raw_invalid),
        trail=trail.extend(state.trail if state else [], [trail.callback(event)]),
    )
