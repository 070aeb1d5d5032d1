"""PAUSE: ``length`` (s) of silence. Not every provider can (see the capability tables).

Example: ``{"type": "PAUSE", "params": {"length": 2}}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome, params_of
from switchboard.flow.document import Path_
from switchboard.providers.actions import Pause


class PauseParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    length: int = Field(default=1, ge=1, le=60, description="s")


class PauseAction(Action):
    type = "PAUSE"
    Params = PauseParams
    provider_facing = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        ctx.out.append(Pause(length_s=int(params_of(action).get("length", 1))))
        return NEXT
