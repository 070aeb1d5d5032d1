"""PLAY: play an audio file. Params: ``url`` (http/https, mp3 or wav), ``loop``."""

from __future__ import annotations

from typing import Any

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Path_
from switchboard.providers.actions import Play


class PlayAction(Action):
    type = "PLAY"
    params = frozenset({"url", "loop"})
    required = frozenset({"url"})
    provider_facing = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        params = action.get("params") or {}
        ctx.out.extend([Play(url=ctx.render(params["url"]))] * max(1, int(params.get("loop", 1))))
        return NEXT
