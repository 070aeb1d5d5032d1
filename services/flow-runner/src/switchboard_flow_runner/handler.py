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

from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from switchboard.errors import FlowError, TransientError
from switchboard.events import CallEvent, CallEventType, Direction, encode
from switchboard.flow.actions.base import EngineSettings
from switchboard.logging import bind_call, get_logger
from switchboard.providers.actions import Hangup, Say
from switchboard.providers.africastalking import render
from switchboard.state import CallState, StateConflict, StateStore, pack_reply, push_reply, unpack_reply
from switchboard.topics import Topic
from switchboard_flow_runner.domain import LIVE_TYPES, apply_event, new_inbound_state, session_ended
from switchboard_flow_runner.flows import FlowRepository
from switchboard_flow_runner.settings import FlowRunnerSettings

log = get_logger(__name__)


class CallEventHandler:
    def __init__(self, settings: FlowRunnerSettings, broker: KafkaBroker, redis: Redis, flows: FlowRepository) -> None:
        self.settings = settings
        self.broker = broker
        self.redis = redis
        self.store = StateStore(redis)
        self.flows = flows
        self.engine = EngineSettings(
            callback_url=settings.callback_url, step_budget=settings.step_budget, error_message=settings.error_message
        )

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
        elif event.type in LIVE_TYPES:
            await self._live(state, event)
        elif state is not None:  # progress, ringing, transfer: note it, nothing to answer
            state.mark_applied(event.event_id)
            if event.call_id and not state.call_id:
                state.call_id = event.call_id
            await self._save(state)

    async def _save(self, state: CallState) -> CallState:
        try:
            return await self.store.save(state)
        except StateConflict as exc:
            raise TransientError(f"state of {exc} changed under us") from exc

    async def _live(self, state: CallState | None, event: CallEvent) -> None:
        if state is None:
            flow_name = self.flows.route(event.provider, event.destination_number)
            if event.direction is Direction.OUTBOUND:
                log.warning("outbound call without dialer state", call_key=event.call_key)
                flow_name = None
            state = new_inbound_state(event, flow_name)
        flow = self.flows.get(state.flow_id, state.flow_version) if state.flow_id else None
        transition = apply_event(state, event, flow, self.engine)
        if transition.error:
            log.error("flow error; caller gets the apology", error=transition.error, flow=state.flow_id)
        try:
            body, content_type = render(transition.actions)
        except FlowError as exc:  # e.g. <Reject/> with other elements: end politely, never silence
            log.error("reply cannot be rendered; caller gets the apology", error=str(exc))
            transition.state.flow_error = str(exc)
            body, content_type = render([Say(text=self.engine.error_message), Hangup()])
        new = transition.state
        new.mark_applied(event.event_id)
        new.last_reply_event = event.event_id
        new.last_reply = pack_reply(body, content_type).decode()
        await self._save(new)
        if event.expects_reply:
            await push_reply(self.redis, event.event_id, body, content_type)

    async def _replay(self, state: CallState, event: CallEvent) -> None:
        if event.expects_reply and state.last_reply and state.last_reply_event == event.event_id:
            body, content_type = unpack_reply(state.last_reply.encode())
            await push_reply(self.redis, event.event_id, body, content_type)
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
