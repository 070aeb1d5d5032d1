"""PAUSE, DETECT and SMS: actions only some providers can carry out (see the capability tables).

- PAUSE: ``length`` (s) of silence.
- DETECT: answering-machine detection; ``on_machine`` ``hangup`` or ``continue``; the result is in
  ``$detection`` (``live_person``, ``machine``, ``unknown``) on the next callback.
- SMS: ``to`` (default: the caller), ``text`` (template); sent through the provider's messaging API.

Examples: ``{"type": "PAUSE", "params": {"length": 2}}``,
``{"type": "SMS", "params": {"text": "Your code is ${sessionData.code}"}}``
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome, params_of
from switchboard.flow.document import Path_
from switchboard.providers.actions import Detect, Pause


class PauseParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    length: int = Field(default=1, ge=1, le=60, description="s")


class DetectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on_machine: Literal["hangup", "continue"] = "continue"


class SmsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str | None = None
    text: str


class PauseAction(Action):
    type = "PAUSE"
    Params = PauseParams
    provider_facing = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        ctx.out.append(Pause(length_s=int(params_of(action).get("length", 1))))
        return NEXT


class DetectAction(Action):
    type = "DETECT"
    Params = DetectParams
    provider_facing = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        ctx.out.append(Detect(on_machine=params_of(action).get("on_machine", "continue")))
        return NEXT


class SmsAction(Action):
    type = "SMS"
    Params = SmsParams
    provider_facing = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        params = params_of(action)
        ctx.effects.append(
            {
                "kind": "sms",
                "to": ctx.render(params.get("to") or ctx.state.caller_number),
                "text": ctx.render(params["text"]),
            }
        )
        return NEXT
