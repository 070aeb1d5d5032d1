"""GOTO: continue at the LABEL named by ``params.label``, wherever it is in the flow.

Example: ``{"type": "GOTO", "params": {"label": "menu"}}``
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from switchboard.errors import FlowError
from switchboard.flow.actions.base import Action, Context, Jump, Outcome
from switchboard.flow.document import Node


class GotoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str


class GotoAction(Action[GotoParams]):
    type = "GOTO"
    Params = GotoParams

    def step(self, ctx: Context, node: Node[GotoParams]) -> Outcome:
        label = node.params.label
        target = ctx.flow.labels.get(label)
        if target is None:
            raise FlowError(f"GOTO to undefined label {label!r}", pointer=node.pointer)
        return Jump(target)
