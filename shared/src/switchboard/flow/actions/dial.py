"""DIAL and TRANSFER: connect the caller to another number.

DIAL params: ``no`` (one number or a list), ``caller_id_no``, ``sequential``, ``record``,
``ringback_url``, ``max_duration`` (s). It bridges the current caller (Africa's Talking Dial): if
the other side answers, the call ends with the bridge; if nobody answers, the flow goes on with the
next action. With ``flow`` or a top-level ``session_data`` it instead starts a *separate* outbound
leg through the dialer, running that flow with that session data (Voxology DIAL), and this call
goes on at once.

TRANSFER params: ``no`` (one number): a DIAL to one number (Voxology TRANSFER).

Examples: ``{"type": "DIAL", "params": {"no": ["+254700000010", "+254700000011"], "sequential": true}}``,
``{"type": "DIAL", "params": {"no": "+254700000012", "flow": "survey"}, "session_data": {"ref": "A1"}}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from switchboard.errors import FlowError
from switchboard.flow.actions.base import NEXT, WAIT, Action, Context, Outcome, PlaceCall
from switchboard.flow.actions.play import check_media_url
from switchboard.flow.document import Node
from switchboard.providers.actions import Dial, Redirect
from switchboard.state import WaitingForDial


class DialParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    no: str | list[str]
    caller_id_no: str | None = None
    sequential: bool = False
    record: bool = False
    ringback_url: str | None = None
    max_duration: int | None = Field(default=None, ge=1, le=86_400, description="s")
    flow: str | None = None

    _ringback = field_validator("ringback_url")(check_media_url)


def guard(ctx: Context, numbers: list[str], node: Node[Any]) -> None:
    """Raises :class:`FlowError` (the call ends with the apology, the reason logged) when the
    tenant's toll-fraud policy refuses one of ``numbers`` (``EngineSettings.dial_guard``)."""
    if ctx.settings.dial_guard is None:
        return
    for number in numbers:
        if reason := ctx.settings.dial_guard(number):
            raise FlowError(f"{node.type} to {number} refused: {reason}", pointer=node.pointer)


def bridge(ctx: Context, numbers: list[str], params: DialParams) -> Outcome:
    """Connect the caller to ``numbers`` and wait: if nobody answers, the provider comes back.
    The caller checks ``numbers`` with :func:`guard` first."""
    ctx.out.append(
        Dial(
            numbers=numbers,
            record=params.record,
            sequential=params.sequential,
            caller_id=ctx.render(params.caller_id_no) if params.caller_id_no else None,
            ringback_url=ctx.render(params.ringback_url) if params.ringback_url else None,
            max_duration_s=params.max_duration,
        )
    )
    if back := ctx.callback_url(dial="1"):  # nobody answered: the provider comes back here
        ctx.out.append(Redirect(url=back))
    ctx.state.waiting = WaitingForDial()
    return WAIT


class DialAction(Action[DialParams]):
    type = "DIAL"
    Params = DialParams
    keys = frozenset({"session_data"})
    provider_facing = True
    waits = True

    def step(self, ctx: Context, node: Node[DialParams]) -> Outcome:
        params = node.params
        numbers = [ctx.render(n) for n in (params.no if isinstance(params.no, list) else [params.no])]
        guard(ctx, numbers, node)
        if not params.flow and "session_data" not in node.doc:
            return bridge(ctx, numbers, params)
        data = node.doc.get("session_data") or {}
        if data == "$sessionData":
            data = dict(ctx.state.session_data)
        session = {k: ctx.render(v) if isinstance(v, str) else v for k, v in dict(data).items()}
        flow = ctx.render(params.flow) if params.flow else ctx.state.flow_ref
        if flow is None:
            raise FlowError("DIAL with session_data needs a 'flow': this call runs none", pointer=node.pointer)
        caller_id = ctx.render(params.caller_id_no) if params.caller_id_no else None
        ctx.effects.extend(PlaceCall(to=n, flow=flow, session_data=session, caller_id=caller_id) for n in numbers)
        return NEXT
