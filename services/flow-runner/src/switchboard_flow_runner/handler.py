"""Handle one ``voice.call-events`` message: load state, apply, save, reply, emit the CDR event.

Order matters for the crash story (ARCHITECTURE §7): the new state (with this event id in
``applied_events`` and the rendered reply) is saved *before* the reply is pushed and the
``SessionEnded`` published, and the Kafka offset is committed after all of it. A redelivered
event finds its id applied and only re-pushes the saved reply; ``SessionEnded`` may be published
twice, which the cdr-sink's upsert by call key absorbs.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import assert_never

from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from switchboard.errors import FlowError, TransientError
from switchboard.events import CallEvent, CallEventType, DialRequest, Direction, FlowErrorEvent, encode
from switchboard.flow.actions.base import EngineSettings, PlaceCall
from switchboard.flow.interpreter import FlowFault, Transition, fail, run
from switchboard.flow.repository import FlowRepository
from switchboard.logging import bind_call, get_logger
from switchboard.providers import PROVIDERS
from switchboard.providers.actions import Hangup, Say
from switchboard.providers.base import Reply
from switchboard.replies import pack, unpack
from switchboard.state import CallState, StateConflict, StateStore
from switchboard.topics import Topic
from switchboard_flow_runner.domain import LIVE_TYPES, apply_event, new_inbound_state, session_ended
from switchboard_flow_runner.fetcher import Fetcher
from switchboard_flow_runner.settings import FlowRunnerSettings

log = get_logger(__name__)


class CallEventHandler:
    def __init__(
        self, settings: FlowRunnerSettings, broker: KafkaBroker, redis: Redis, flows: FlowRepository, fetcher: Fetcher
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.redis = redis
        self.store = StateStore(redis)
        self.flows = flows
        self.fetcher = fetcher
        self.engine = settings.engine()

    def engine_for(self, provider: str) -> EngineSettings:
        """The engine settings for a provider: callback URLs only where replies name them."""
        return self.engine if PROVIDERS[provider].uses_callback_urls else replace(self.engine, callback_url=None)

    async def _state_for(self, event: CallEvent) -> CallState | None:
        state = await self.store.load(event.call_key)
        if state is not None or event.direction is Direction.INBOUND:
            return state
        # Outbound: the dialer writes the state once AT answers POST /call; the first callback
        # can beat it. Wait a little for it rather than run the call without its flow.
        deadline = time.monotonic() + self.settings.outbound_state_wait_s
        while state is None and time.monotonic() < deadline and event.type in LIVE_TYPES:
            await asyncio.sleep(0.05)
            state = await self.store.load(event.call_key)
        return state

    async def handle(self, event: CallEvent) -> None:
        bind_call(call_key=event.call_key, event_id=event.event_id)
        state = await self._state_for(event)
        if state is not None and event.event_id in state.applied_events:
            await self._replay(state, event)
            return
        if event.type is CallEventType.CALL_ENDED:
            await self._end(state, event)
        elif event.type in LIVE_TYPES or event.expects_reply:
            await self._live(state, event)
        elif state is not None:  # progress, ringing, transfer: note it, nothing to answer
            state.mark_applied(event.event_id)
            if event.call_id and not state.call_id:
                state.call_id = event.call_id
            await self._save(state)

    async def _save(
        self, state: CallState, *, reply_to: str | None = None, reply: Reply | None = None, link: bool = False
    ) -> CallState:
        try:
            return await self.store.save(state, reply_to=reply_to, reply=reply, link_call_id=link)
        except StateConflict as exc:
            raise TransientError(f"state of {exc} changed under us") from exc

    async def _live(self, state: CallState | None, event: CallEvent) -> None:
        if state is None:
            flow_name = self.flows.route(event.provider, event.destination_number)
            if event.direction is Direction.OUTBOUND:
                log.warning("outbound call without dialer state", call_key=event.call_key)
                flow_name = None
            state = new_inbound_state(event, flow_name)  # its call id is linked when it is saved
        if state.pending_replies:  # one-action providers: the batch is not played out yet
            await self._reply(state, event, [unpack(p.encode()) for p in state.pending_replies])
            return
        flow = await self.flows.flow_for(state)
        engine = self.engine_for(state.provider)
        transition = await self._follow_fetches(apply_event(state, event, flow, engine), engine)
        await self._effects(transition, event)
        if transition.error:
            log.error("flow error; caller gets the apology", error=str(transition.error), flow=state.flow_ref)
            await self._flow_error(transition.state, transition.error)
        new = transition.state
        provider = PROVIDERS[new.provider]
        try:
            replies = provider.render(transition.actions, reply_seq=new.reply_seq, caller_id=new.caller_number)
        except FlowError as exc:  # an action the provider lacks: end politely, never silence
            log.error("reply cannot be rendered; caller gets the apology", error=str(exc))
            new.flow_error = str(exc)
            replies = provider.render([Say(text=engine.error_message), Hangup()])
        await self._reply(new, event, replies)

    async def _reply(self, state: CallState, event: CallEvent, replies: list[Reply]) -> None:
        """Answer ``event`` with the first reply and keep the others pending (Telesign takes one
        action per reply); save the state before pushing the reply (crash story above)."""
        first = replies[0] if replies else Reply(b"{}", "application/json")
        state.pending_replies = [pack(r).decode() for r in replies[1:]]
        state.mark_applied(event.event_id)
        new_call = state.version == 0
        await self._save(state, reply_to=event.event_id if event.expects_reply else None, reply=first, link=new_call)

    async def _follow_fetches(self, transition: Transition, engine: EngineSettings) -> Transition:
        """Do the I/O the flow asks for and run on, up to ``max_fetches`` times per callback."""
        fetches = 0
        while transition.fetch is not None and not transition.ended:
            fetches += 1
            if fetches > engine.max_fetches:
                fault = FlowFault(f"more than {engine.max_fetches} WEBHOOK/REDIRECT requests in one callback")
                return fail(transition, fault, engine)
            answer = await self.fetcher.fetch(transition.fetch)
            assert transition.flow is not None
            after = run(transition.flow, transition.state, None, engine, answer=answer)
            after.actions = [*transition.actions, *after.actions]
            after.effects = [*transition.effects, *after.effects]
            transition = after
        return transition

    async def _effects(self, transition: Transition, event: CallEvent) -> None:
        """Carry out the run's effects. They go out before the state is saved, so a redelivered
        event runs them again: each dial request's idempotency key is the event id and the
        effect's position, and the dialer places a key once."""
        state = transition.state
        for n, effect in enumerate(transition.effects):
            match effect:
                case PlaceCall():
                    request = DialRequest(
                        idempotency_key=f"{event.event_id}:{n}",
                        to=effect.to,
                        flow=effect.flow,
                        session_data=effect.session_data,
                        caller_id=effect.caller_id,
                        provider=state.provider,
                        account=state.account,
                        campaign_id=state.campaign_id,
                    )
                    await self.broker.publish(
                        encode(request), Topic.DIAL_REQUESTS.value, key=request.request_id.encode()
                    )
                case _:
                    assert_never(effect)

    async def _flow_error(self, state: CallState, fault: FlowFault) -> None:
        event = FlowErrorEvent(
            call_key=state.call_key,
            call_id=state.call_id,
            provider=state.provider,
            flow_id=state.flow_ref,
            flow_version=state.flow_version,
            pointer=fault.pointer,
            message=fault.message,
        )
        await self.broker.publish(encode(event), Topic.FLOW_ERRORS.value, key=state.call_key.encode())

    async def _replay(self, state: CallState, event: CallEvent) -> None:
        # Its reply was stored and published with the state (switchboard.replies, crash story 2).
        log.info("event already applied; skipped")

    async def _end(self, state: CallState | None, event: CallEvent) -> None:
        if state is not None and state.status == "ended":
            return
        ended = session_ended(state, event)
        await self.broker.publish(encode(ended), Topic.SESSIONS_ENDED.value, key=event.call_key.encode())
        log.info("call ended", status=ended.status, duration_s=ended.duration_s, cause=ended.hangup_cause)
        if state is not None:
            state.status = "ended"
            state.mark_applied(event.event_id)
            await self._save(state)
            await self.store.expire_soon(event.call_key)
