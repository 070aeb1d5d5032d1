"""DETECT: answering-machine detection; ``on_machine`` ``hangup`` or ``continue``; the result is in
``$detection`` (``live_person``, ``machine``, ``unknown``). Not every provider can.

Example: ``{"type": "DETECT", "params": {"on_machine": "hangup"}}``
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Node
from switchboard.providers.actions import Detect


class DetectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on_machine: Literal["hangup", "continue"] = "continue"


class DetectAction(Action[DetectParams]):
    type = "DETECT"
    Params = DetectParams
    provider_facing = True

    def step(self, ctx: Context, node: Node[DetectParams]) -> Outcome:
        ctx.out.append(Detect(on_machine=node.params.on_machine))
        return NEXT
