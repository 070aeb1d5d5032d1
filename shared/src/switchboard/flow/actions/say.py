"""SAY: speak text. ``text`` is a template; ``loop`` repeats it; ``play_beep`` beeps after it.

Example: ``{"type": "SAY", "params": {"text": "Hello ${sessionData.firstName}.", "loop": 2}}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome, params_of
from switchboard.flow.document import Path_
from switchboard.providers.actions import Say


class SayParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    voice: str | None = None
    language: str | None = None
    loop: int = Field(default=1, ge=1, le=10)
    play_beep: bool = False


def say_of(ctx: Context, params: dict[str, Any]) -> Say:
    return Say(
        text=ctx.render(params.get("text", "")),
        voice=params.get("voice"),
        play_beep=bool(params.get("play_beep", False)),
    )


class SayAction(Action):
    type = "SAY"
    Params = SayParams
    provider_facing = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        params = params_of(action)
        ctx.out.extend([say_of(ctx, params)] * int(params.get("loop", 1)))
        return NEXT
