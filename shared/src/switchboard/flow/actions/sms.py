"""SMS: ``to`` (default: the caller), ``text`` (template), sent through the provider's messaging API.
Not every provider's adapter can.

Example: ``{"type": "SMS", "params": {"text": "Your code is ${sessionData.code}"}}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome, params_of
from switchboard.flow.document import Path_


class SmsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str | None = None
    text: str


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
