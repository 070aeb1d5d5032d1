"""LABEL: a GOTO target named by ``name`` (top level, Voxology) or ``params.name``; does nothing.

Example: ``{"type": "LABEL", "name": "menu"}``
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Node


class LabelParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None


class LabelAction(Action[LabelParams]):
    type = "LABEL"
    Params = LabelParams

    def step(self, ctx: Context, node: Node[LabelParams]) -> Outcome:
        return NEXT
