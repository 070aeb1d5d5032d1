"""LABEL: a GOTO target named by ``name`` (top level, Voxology) or ``params.name``; does nothing.

Example: ``{"type": "LABEL", "name": "menu"}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Path_


class LabelParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None


class LabelAction(Action):
    type = "LABEL"
    Params = LabelParams

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        return NEXT
