"""TRANSFER: connect the caller to one number (``no``): a DIAL to one number (Voxology TRANSFER).

Example: ``{"type": "TRANSFER", "params": {"no": "+254700000010"}}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from switchboard.flow.actions.base import Action, Context, Outcome, params_of
from switchboard.flow.actions.dial import bridge
from switchboard.flow.document import Path_


class TransferParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    no: str


class TransferAction(Action):
    type = "TRANSFER"
    Params = TransferParams
    provider_facing = True
    waits = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        params = params_of(action)
        return bridge(ctx, [ctx.render(params["no"])], {})
