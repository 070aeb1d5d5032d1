"""TRANSFER: connect the caller to one number (``no``): a DIAL to one number (Voxology TRANSFER).

Example: ``{"type": "TRANSFER", "params": {"no": "+254700000010"}}``
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from switchboard.flow.actions.base import Action, Context, Outcome
from switchboard.flow.actions.dial import DialParams, bridge, guard
from switchboard.flow.document import Node


class TransferParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    no: str


class TransferAction(Action[TransferParams]):
    type = "TRANSFER"
    Params = TransferParams
    provider_facing = True
    waits = True

    def step(self, ctx: Context, node: Node[TransferParams]) -> Outcome:
        numbers = [ctx.render(node.params.no)]
        guard(ctx, numbers, node)
        return bridge(ctx, numbers, DialParams(no=node.params.no))
