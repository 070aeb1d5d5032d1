"""The interpreter loop: resume a call at its program counter, run actions until one needs the
provider to come back or the call ends, and return what to send (FLOW-LANGUAGE.md, Execution).

Pure: no I/O. ``run(flow, state, event, settings)`` mutates a copy of the state and returns it in
a :class:`Transition`; loading and saving the state is the caller's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchboard.errors import FlowError
from switchboard.events import CallEvent
from switchboard.flow.actions import REGISTRY
from switchboard.flow.actions.base import END, NEXT, WAIT, Context, EngineSettings, Jump
from switchboard.flow.document import Flow, Path_, pointer_of
from switchboard.flow.expressions import ExpressionError
from switchboard.providers.actions import Hangup, ProviderAction, Say
from switchboard.state import CallState


@dataclass
class Transition:
    """The result of one callback: the new state, the provider actions to render, and whether
    the call ends after them (``ended``). ``error`` is set when the flow failed and the caller
    got the apology instead."""

    state: CallState
    actions: list[ProviderAction] = field(default_factory=list)
    ended: bool = False
    error: str | None = None


def build_scope(state: CallState, event: CallEvent | None) -> dict[str, Any]:
    """The variables a flow sees (FLOW-LANGUAGE.md, Variables); user variables first so native
    names win."""
    started = state.answered_at or state.created_at
    now = event.received_at if event else started
    return {
        **state.variables,
        "callId": state.call_id,
        "callKey": state.call_key,
        "provider": state.provider,
        "direction": state.direction.value,
        "callerNo": state.caller_number,
        "callerNumber": state.caller_number,
        "apiNo": state.destination_number,
        "destinationNo": state.destination_number,
        "startTime": int(started.timestamp() * 1000),
        "callTime": max(0, int((now - started).total_seconds() * 1000)),
        "keyPresses": state.key_presses,
        "collected": state.collected,
        "recordingUrl": state.recording_url,
        "recordings": state.recordings,
        "sessionData": state.session_data,
        "campaignId": state.campaign_id,
        "attempt": state.attempt,
    }


def _advance(flow: Flow, path: Path_) -> Path_ | None:
    """The path after ``path``: the next sibling, or out of finished branches; None at the end."""
    path = (*path[:-1], int(path[-1]) + 1)
    while flow.at(path) is None:
        if len(path) == 1:
            return None
        path = (*path[:-3], int(path[-3]) + 1)
    return path


def _normalise(flow: Flow, path: Path_) -> Path_ | None:
    return path if flow.at(path) is not None else _advance(flow, (*path[:-1], int(path[-1]) - 1))


def run(flow: Flow, state: CallState, event: CallEvent | None, settings: EngineSettings) -> Transition:
    """Apply ``event`` to ``state`` and run ``flow`` to its next waiting or terminal point.

    Never raises for a flow problem: a :class:`FlowError`, an expression error or a broken step
    budget ends the call with ``settings.error_message`` and sets ``Transition.error``.
    """
    state = state.model_copy(deep=True)
    ctx = Context(flow=flow, state=state, settings=settings, scope=build_scope(state, event))
    try:
        return _run(ctx, event)
    except (FlowError, ExpressionError, KeyError, TypeError, ValueError) as exc:
        pointer = getattr(exc, "pointer", None) or (pointer_of(tuple(state.pc)) if state.pc else "")
        message = f"{pointer}: {exc}" if pointer else str(exc)
        state.flow_error = message
        state.pc = None
        state.waiting = None
        return Transition(state, [Say(text=settings.error_message), Hangup()], ended=True, error=message)


def _run(ctx: Context, event: CallEvent | None) -> Transition:
    state = ctx.state
    if state.waiting and event is not None:
        REGISTRY[state.waiting["action"]].resume(ctx, state.waiting, event)
        state.waiting = None
        ctx.scope = build_scope(state, event)
    path: Path_ | None = None if state.pc is None else _normalise(ctx.flow, tuple(state.pc))
    steps = 0
    while path is not None:
        steps += 1
        if steps > ctx.settings.step_budget:
            raise FlowError(
                f"step budget of {ctx.settings.step_budget} actions per callback exceeded "
                "(a loop without a provider-facing action?)",
                pointer=pointer_of(path),
            )
        action = ctx.flow.at(path)
        assert action is not None
        state.pc = list(path)
        outcome = REGISTRY[action["type"]].step(ctx, action, path)
        if isinstance(outcome, Jump):
            path = _normalise(ctx.flow, outcome.path)
        elif outcome is NEXT:
            path = _advance(ctx.flow, path)
        elif outcome is WAIT:
            state.pc = _as_list(_advance(ctx.flow, path))
            state.step += 1
            return Transition(state, ctx.out)
        elif outcome is END:
            state.pc = None
            return Transition(state, ctx.out, ended=True)
    state.pc = None
    return Transition(state, [*ctx.out, Hangup()], ended=True)


def _as_list(path: Path_ | None) -> list[int | str] | None:
    return None if path is None else list(path)
