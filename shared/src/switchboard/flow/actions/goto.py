"""GOTO: continue at the LABEL named by ``params.label``, wherever it is in the flow.

Example: ``{"type": "GOTO", "params": {"label": "menu"}}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from switchboard.errors import FlowError
from switchboard.flow.actions.base import Action, Context, Jump, Outcome, params_of
from switchboard.flow.document import Path_, pointer_of


class GotoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str


class GotoAction(Action):
    type = "GOTO"
    Params = GotoParams

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        label = params_of(action).get("label")
        target = ctx.flow.labels.get(str(label))
        if target is None:
            raise FlowError(f"GOTO to undefined label {label!r}", pointer=pointer_of(path))
        return Jump(target)
