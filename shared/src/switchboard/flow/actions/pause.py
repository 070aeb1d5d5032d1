"""PAUSE: ``length`` (s) of silence. Not every provider can (see the capability tables).

Example: ``{"type": "PAUSE", "params": {"length": 2}}``
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Node
from switchboard.providers.actions import Pause


class PauseParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    length: int = Field(default=1, ge=1, le=60, description="s")


class PauseAction(Action[PauseParams]):
    type = "PAUSE"
    Params = PauseParams
    provider_facing = True

    def step(self, ctx: Context, node: Node[PauseParams]) -> Outcome:
        ctx.out.append(Pause(length_s=node.params.length))
        return NEXT
