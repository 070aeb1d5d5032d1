"""Handle one ``voice.call-events`` message: load state, take the turn (domain.py, pure), publish
its events, save the state with the reply (one script), emit the CDR event.

Order matters for the crash story (ARCHITECTURE §7): the new state (with this event id in
``applied_events``) and its reply are saved and published in one Redis script, and the Kafka
offset is committed after that. A redelivered event finds its id applied and is skipped (its reply
is stored); ``SessionEnded`` may be published twice, which the cdr-sink's upsert by call key
absorbs.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from switchboard import tracing, trail
from switchboard.errors import TransientError
from switchboard.events import CallEvent, CallEventType, Direction, encode
from switchboard.flow.actions.base import EngineSettings
from switchboard.flow.repository import FlowRepository
from switchboard.logging import bind_call, get_logger
from switchboard.providers import PROVIDERS
from switchboard.providers.base import Reply
from switchboard.redis import awaiting_report_key, live_calls_key
from switchboard.state import CallState, StateConflict, StateStore
from switchboard.topics import Topic
from switchboard_flow_runner.domain import (
    LIVE_TYPES,
    continue_turn,
    new_inbound_state,
    replay_message,
    session_ended,
    take_turn,
)
from switchboard_flow_runner.fetcher import Fetcher
from switchboard_flow_runner.policies import PolicyCache
from switchboard_flow_runner.settings import FlowRunnerSettings

log = get_logger(__name__)


class CallEventHandler:
    def __init__(
        self,
        settings: FlowRunnerSettings,
        broker: KafkaBroker,
        redis: Redis,
        flows: FlowRepository,
        fetcher: Fetcher,
        policies: PolicyCache | None = None,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.redis = redis
        self.store = StateStore(redis)
        self.flows = flows
        self.fetcher = fetcher
        self.engine = settings.engine()
        self.policies = policies
        self._engines: dict[tuple[str, str], EngineSettings] = {}

    async def engine_for(self, provider: str, tenant_id: str) -> EngineSettings:
        """The engine settings for a call: callback URLs only where the provider's replies name
        them, and the tenant's toll-fraud guard on DIAL and TRANSFER (:class:`PolicyCache`; None:
        no guard, for tests that run without PostgreSQL)."""
        guard = await self.policies.guard(tenant_id) if self.policies is not None else None
        engine = self._engines.get((provider, tenant_id))
        if engine is None or engine.dial_guard is not guard:
            callback_url = self.engine.callback_url if PROVIDERS[provider].uses_callback_urls else None
            engine = replace(self.engine, callback_url=callback_url, dial_guard=guard)
            self._engines[(provider, tenant_id)] = engine
        return engine

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
            state.trail = trail.extend(state.trail, [trail.callback(event)])
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
        """load → turn (with its fetches) → publish its events → save the state with the reply."""
        if state is None:
            tenant_id, flow_name = self.flows.route_call(event.provider, event.destination_number)
            if event.direction is Direction.OUTBOUND:
                log.warning("outbound call without dialer state", call_key=event.call_key)
                flow_name = None
            state = new_inbound_state(event, flow_name, tenant_id)  # its call id is linked when it is saved
        engine = await self.engine_for(state.provider, state.tenant_id)
        flow = None if state.pending_replies else await self.flows.flow_for(state)
        with tracing.span("flow.turn", **{"switchboard.flow": state.flow_ref}):
            turn = take_turn(state, event, flow, engine)
            while turn.fetch is not None:
                turn = continue_turn(turn, await self.fetcher.fetch(turn.fetch), event, engine)
        if any(out.topic is Topic.FLOW_ERRORS for out in turn.outgoing):
            log.warning("flow error; caller gets the apology", error=turn.state.flow_error, flow=state.flow_ref)
        # Published before the save: a crash in between redelivers the event and publishes them
        # again (dial requests carry idempotency keys; flow errors are reports), never loses them.
        for out in turn.outgoing:
            await self.broker.publish(encode(out.event), out.topic.value, key=out.key)
        with tracing.span("flow.reply", **{"switchboard.expects_reply": event.expects_reply}):
            await self._save(
                turn.state,
                reply_to=event.event_id if event.expects_reply else None,
                reply=turn.reply,
                link=turn.state.version == 0,
            )
        if turn.state.version == 0 and turn.state.status != "ended":  # a call new here (inbound): after its reply
            await self.store.mark_live(turn.state)

    async def _replay(self, state: CallState, event: CallEvent) -> None:
        # Its reply was stored and published with the state (switchboard.replies, crash story 2).
        log.info("event already applied; skipped")

    async def _end(self, state: CallState | None, event: CallEvent) -> None:
        if state is not None and state.status == "ended":
            return
        if state is not None and PROVIDERS[state.provider].capabilities.one_message:
            engine = await self.engine_for(state.provider, state.tenant_id)
            state = replay_message(state, event, await self.flows.flow_for(state), engine)
        ended = session_ended(state, event)
        await self.broker.publish(encode(ended), Topic.SESSIONS_ENDED.value, key=event.call_key.encode())
        if PROVIDERS[event.provider].capabilities.one_message:  # its outcome is in: no need to look it up
            await self.redis.zrem(awaiting_report_key(event.provider), event.call_key)
        log.info("call ended", status=ended.status, duration_s=ended.duration_s, cause=ended.hangup_cause)
        if state is not None:
            await self.redis.zrem(live_calls_key(state.tenant_id), event.call_key)
            state.status = "ended"
            state.mark_applied(event.event_id)
            await self._save(state)
            await self.store.expire_soon(event.call_key)
