"""SAY: speak text. ``text`` is a template; ``loop`` repeats it; ``play_beep`` beeps after it.

Example: ``{"type": "SAY", "params": {"text": "Hello ${sessionData.firstName}.", "loop": 2}}``
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Node
from switchboard.providers.actions import Say


class SayParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    voice: str | None = None
    language: str | None = None
    loop: int = Field(default=1, ge=1, le=10)
    play_beep: bool = False


def say_of(ctx: Context, params: SayParams) -> Say:
    return Say(text=ctx.render(params.text), voice=params.voice, play_beep=params.play_beep)


class SayAction(Action[SayParams]):
    type = "SAY"
    Params = SayParams
    provider_facing = True

    def step(self, ctx: Context, node: Node[SayParams]) -> Outcome:
        ctx.out.extend([say_of(ctx, node.params)] * node.params.loop)
        return NEXT
