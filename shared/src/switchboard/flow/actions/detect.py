"""DETECT: answering-machine detection; ``on_machine`` ``hangup`` or ``continue``; the result is in
``$detection`` (``live_person``, ``machine``, ``unknown``). Not every provider can.

Example: ``{"type": "DETECT", "params": {"on_machine": "hangup"}}``
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome, params_of
from switchboard.flow.document import Path_
from switchboard.providers.actions import Detect


class DetectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on_machine: Literal["hangup", "continue"] = "continue"


class DetectAction(Action):
    type = "DETECT"
    Params = DetectParams
    provider_facing = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        ctx.out.append(Detect(on_machine=params_of(action).get("on_machine", "continue")))
        return NEXT
