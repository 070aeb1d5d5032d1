"""The interpreter loop: resume a call at its program counter, run actions until one needs the
provider to come back, needs I/O, or ends the call, and return what to send
(FLOW-LANGUAGE.md, Execution model).

Pure: no I/O. ``run(flow, state, event, settings)`` works on a copy of the state and returns it in
a :class:`Transition`. When an action needs I/O the transition carries a ``fetch``; the caller
performs it and calls ``run`` again with ``answer=`` (and no event), up to
``settings.max_fetches`` times per callback.

Two kinds of failure end a call with the apology (``settings.error_message``), never silence:

- the flow author's mistake (:class:`FlowError`, including a broken limit, or an expression that
  cannot be evaluated): ``Transition.error`` says where (JSON pointer) and what;
- a bug in the engine (any other exception): logged at error level with its traceback, counted in
  :data:`INTERNAL_ERRORS`, and flagged ``Transition.internal_error``; it is never reported as the
  flow author's mistake.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from switchboard.errors import FlowError
from switchboard.events import CallEvent, Direction
from switchboard.flow.actions import REGISTRY
from switchboard.flow.actions.base import (
    END,
    HALT,
    NEXT,
    WAIT,
    Context,
    Effect,
    EngineSettings,
    Fetch,
    FetchAnswer,
    FetchRequest,
    Jump,
    Outcome,
)
from switchboard.flow.document import Flow, FlowInvalid, Path_, build_flow, pointer_of
from switchboard.flow.expressions import ExpressionError
from switchboard.logging import get_logger
from switchboard.phone import zones_for
from switchboard.providers.actions import Hangup, ProviderAction, Say
from switchboard.state import CallState

log = get_logger(__name__)

INTERNAL_ERRORS: Counter[str] = Counter()
"""Engine bugs met since the process started, by exception class name."""


@dataclass(frozen=True)
class FlowFault:
    """A flow author's mistake found while running: ``message`` says what, ``pointer`` (RFC 6901,
    into the flow document, e.g. ``/actions/4/params/iterator``) where; None when no one action is
    to blame (a missing flow, too many fetches in one callback)."""

    message: str
    pointer: str | None = None

    def __str__(self) -> str:
        return f"{self.pointer}: {self.message}" if self.pointer else self.message


@dataclass
class Transition:
    """The result of one run: the new state, the provider actions to render, whether the call ends
    after them (``ended``), I/O still to do (``fetch``), effects for the runner (dial legs), and the
    flow now in force (it changes on REDIRECT and dynamic answers). When the call ended with the
    apology instead: ``error`` for the flow author's mistake, ``internal_error`` for a bug of ours."""

    state: CallState
    actions: list[ProviderAction] = field(default_factory=list)
    ended: bool = False
    error: FlowFault | None = None
    internal_error: bool = False
    fetch: FetchRequest | None = None
    effects: list[Effect] = field(default_factory=list)
    flow: Flow | None = None
    ran: list[Any] = field(default_factory=list)
    """The actions run (``Node``s, in order), for the call's step trail."""


@lru_cache(maxsize=4096)
def _number_zone(number: str) -> str:
    zones = zones_for(number)
    return zones[0] if len(zones) == 1 else "UTC"


def call_time_zone(flow: Flow, state: CallState) -> str:
    """The IANA zone of the call's local time: the flow's ``timezone``; else the zone of the number
    the flow answers on (the called number inbound, the caller ID outbound) when phonenumbers maps
    it to exactly one; else ``UTC``."""
    if flow.timezone:
        return flow.timezone
    ours = state.destination_number if state.direction == Direction.INBOUND else state.caller_number
    return _number_zone(ours) if ours else "UTC"


def build_scope(state: CallState, event: CallEvent | None, flow: Flow | None = None) -> dict[str, Any]:
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
        "keyPresses": state.digits,
        "collected": state.collected,
        "recordingUrl": state.recording_url,
        "recordings": state.recordings,
        "detection": state.variables.get("detection"),
        "sessionData": state.session_data,
        "campaignId": state.campaign_id,
        "attempt": state.attempt,
        "webhook": state.variables.get("webhook", {}),
        "timeZone": call_time_zone(flow, state) if flow is not None else "UTC",
    }


def _resolve(ctx: Context, path: Path_) -> Path_ | None:
    """``path`` if an action is there; else out of finished branches (each parent decides through
    ``branch_end``: FOREACH loops, IF goes on); None at the end of the flow."""
    while ctx.flow.at(path) is None:
        if len(path) == 1:
            return None
        parent_path = path[:-2]
        parent = ctx.flow.at(parent_path)
        assert parent is not None
        outcome = parent.spec.branch_end(ctx, parent)
        path = outcome.path if isinstance(outcome, Jump) else (*parent_path[:-1], int(parent_path[-1]) + 1)
    return path


def _after(ctx: Context, path: Path_) -> Path_ | None:
    return _resolve(ctx, (*path[:-1], int(path[-1]) + 1))


def run(
    flow: Flow,
    state: CallState,
    event: CallEvent | None,
    settings: EngineSettings,
    *,
    answer: FetchAnswer | None = None,
) -> Transition:
    """Apply ``event`` (or a fetch ``answer``) to ``state`` and run ``flow`` to its next stop.

    Never raises: a flow author's mistake or a bug of ours ends the call with the apology (see the
    module docstring).
    """
    state = state.clone()
    ctx = Context(flow=flow, state=state, settings=settings, scope=build_scope(state, event, flow), event=event)
    try:
        return _run(ctx, event, answer)
    except (FlowError, ExpressionError) as exc:
        at = ctx.at or (tuple(state.pc) if state.pc else None)
        pointer = getattr(exc, "pointer", None) or (pointer_of(at) if at else None)
        return fail(Transition(ctx.state, ctx.out, flow=ctx.flow, ran=ctx.ran), FlowFault(str(exc), pointer), settings)
    except Exception as exc:
        INTERNAL_ERRORS[type(exc).__name__] += 1
        log.exception(
            "flow engine bug; the caller gets the apology",
            flow=ctx.flow.name,
            flow_version=ctx.flow.version,
            pc=list(ctx.at) if ctx.at else state.pc,
            internal_errors=sum(INTERNAL_ERRORS.values()),
        )
        return fail(Transition(ctx.state, ctx.out, flow=ctx.flow), None, settings)


def _resume(ctx: Context, event: CallEvent | None, answer: FetchAnswer | None) -> Outcome:
    waiting = ctx.state.waiting
    if waiting is None:
        return NEXT
    ctx.state.waiting = None
    spec = REGISTRY[waiting.action]
    if answer is not None:
        outcome = spec.resume_fetch(ctx, waiting, answer)
        _switch_flow(ctx)
        return outcome
    if event is not None:
        spec.resume(ctx, waiting, event)
    return NEXT


def _switch_flow(ctx: Context) -> None:
    """Continue with a dynamic document (checked first) or another named flow, from its start."""
    if ctx.replace_with is not None:
        try:
            flow = build_flow(ctx.replace_with, name=str(ctx.replace_with["name"]))
        except FlowInvalid as exc:
            raise FlowError(f"the application answered an invalid flow: {exc.problems[0]}") from None
        ctx.state.dynamic_doc = ctx.replace_with
        ctx.state.flow_version = flow.version
    elif ctx.switch_to is not None:
        flow = ctx.switch_to
        ctx.state.dynamic_doc = None
        ctx.state.flow_ref, ctx.state.flow_version = flow.name, flow.version
    else:
        return
    ctx.flow = flow
    ctx.state.pc = [0]
    ctx.state.loops = {}
    ctx.replace_with = ctx.switch_to = None


def _run(ctx: Context, event: CallEvent | None, answer: FetchAnswer | None) -> Transition:
    state = ctx.state
    outcome = _resume(ctx, event, answer)
    ctx.scope = build_scope(state, event, ctx.flow)
    path: Path_ | None
    if isinstance(outcome, Jump):
        path = _resolve(ctx, outcome.path)
    else:
        path = None if state.pc is None else _resolve(ctx, tuple(state.pc))
    ran = 0
    while path is not None:
        ran += 1
        if ran > ctx.settings.action_budget:
            raise FlowError(
                f"action budget of {ctx.settings.action_budget} actions per callback exceeded "
                "(a loop without a provider-facing action?)",
                pointer=pointer_of(path),
            )
        if len(path) // 2 > ctx.settings.max_depth:
            raise FlowError(f"nesting deeper than {ctx.settings.max_depth}", pointer=pointer_of(path))
        node = ctx.flow.at(path)
        assert node is not None
        ctx.at = path  # state.pc is written at the stop only: a pydantic assignment per step costs
        ctx.ran.append(node)
        outcome = node.spec.step(ctx, node)
        if isinstance(outcome, Jump):
            path = _resolve(ctx, outcome.path)
        elif outcome is NEXT:
            path = _after(ctx, path)
        elif outcome is END:
            state.pc = None
            return _transition(ctx, ended=True)
        else:  # WAIT, HALT or Fetch: stop here, resume after this action
            after = _after(ctx, path)
            state.pc = None if after is None else list(after)
            if outcome is WAIT:
                state.reply_seq += 1
            if isinstance(outcome, Fetch):
                return _transition(ctx, fetch=outcome.request)
            assert outcome in (WAIT, HALT)
            return _transition(ctx)
    state.pc = None
    ctx.out.append(Hangup())
    return _transition(ctx, ended=True)


def _transition(ctx: Context, *, ended: bool = False, fetch: FetchRequest | None = None) -> Transition:
    return Transition(ctx.state, ctx.out, ended=ended, fetch=fetch, effects=ctx.effects, flow=ctx.flow, ran=ctx.ran)


def fail(transition: Transition, fault: FlowFault | None, settings: EngineSettings) -> Transition:
    """End the call politely after ``transition``'s actions: the apology, then hang up. ``fault``:
    the flow author's mistake (kept in the state for the CDR); None for a bug of ours
    (``internal_error``)."""
    state = transition.state.clone()
    state.flow_error = None if fault is None else str(fault)
    state.pc, state.waiting = None, None
    return Transition(
        state,
        [*transition.actions, Say(text=settings.error_message), Hangup()],
        ended=True,
        error=fault,
        internal_error=fault is None,
        effects=transition.effects,
        flow=transition.flow,
        ran=transition.ran,
    )
