"""SAY: speak text (a template). Params: ``text``, ``voice``, ``language``, ``loop``, ``play_beep``."""

from __future__ import annotations

from typing import Any

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Path_
from switchboard.providers.actions import Say


def say_of(ctx: Context, params: dict[str, Any]) -> Say:
    return Say(
        text=ctx.render(params.get("text", "")),
        voice=params.get("voice"),
        play_beep=bool(params.get("play_beep", False)),
    )


class SayAction(Action):
    type = "SAY"
    params = frozenset({"text", "voice", "language", "loop", "play_beep"})
    required = frozenset({"text"})
    provider_facing = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        params = action.get("params") or {}
        say = say_of(ctx, params)
        ctx.out.extend([say] * max(1, int(params.get("loop", 1))))
        return NEXT
