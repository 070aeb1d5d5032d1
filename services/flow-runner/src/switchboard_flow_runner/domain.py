"""What the flow-runner does with one CallEvent, as pure functions (STYLE §5).

- :func:`new_inbound_state`: the state of a call we have not seen (route by the dialled number).
- :func:`apply_event`: run the flow for a live callback → new state + provider actions.
- :func:`session_ended`: the CDR-ready :class:`SessionEnded` for a call's final notification.
"""

from __future__ import annotations

from switchboard.events import CallEvent, CallEventType, CallStatus, SessionEnded, new_id
from switchboard.flow.actions.base import EngineSettings
from switchboard.flow.document import Flow
from switchboard.flow.interpreter import FlowFault, Transition, run
from switchboard.providers import PROVIDERS
from switchboard.providers.actions import Hangup, Say
from switchboard.state import CallState

LIVE_TYPES = {CallEventType.CALL_STARTED, CallEventType.INPUT_RECEIVED, CallEventType.RECORDING_RECEIVED}


def new_inbound_state(event: CallEvent, flow_name: str | None) -> CallState:
    return CallState(
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
    state = state.model_copy(deep=True)
    if state.answered_at is None:
        state.answered_at = event.call_start_time or event.received_at
    state.status = "active"
    if flow is None:
        state.flow_error = f"no flow {state.flow_ref!r} for this call"
        return Transition(
            state, [Say(text=settings.error_message), Hangup()], ended=True, error=FlowFault(state.flow_error)
        )
    if state.flow_version is None:
        state.flow_version = flow.version
    if state.pc is None:  # flow already finished: a late callback just ends the call
        return Transition(state, [Hangup()], ended=True)
    return run(flow, state, event, settings)


def session_ended(state: CallState | None, event: CallEvent) -> SessionEnded:
    """The CDR of a call from its final notification and whatever state we kept."""
    status, cause = PROVIDERS[event.provider].classify_end(event)
    inputs = dict(state.collected) if state else {}
    return SessionEnded(
        call_key=event.call_key,
        call_id=(state.call_id if state else None) or event.call_id,
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
    )
