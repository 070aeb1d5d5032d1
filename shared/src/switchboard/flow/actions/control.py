"""Server-side control flow: IF, GOTO, LABEL (Voxology semantics; FLOW-LANGUAGE.md).

- IF: ``condition`` (an expression; top level, as Voxology writes it, or in ``params``),
  ``then: [..]``, ``orElse: [..]`` (``else`` accepted). An empty chosen branch goes on after the IF.
- GOTO: ``params.label`` → continue at that LABEL, wherever it is in the flow.
- LABEL: ``name`` (top level, Voxology) or ``params.name``; does nothing when run.

Examples: ``{"type": "IF", "condition": "$keyPresses == 1", "then": [..], "orElse": [..]}``,
``{"type": "LABEL", "name": "menu"}``, ``{"type": "GOTO", "params": {"label": "menu"}}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from switchboard.errors import FlowError
from switchboard.flow.actions.base import NEXT, Action, Context, Jump, Outcome, params_of
from switchboard.flow.document import Path_, pointer_of
from switchboard.flow.expressions import evaluate, truthy


class IfParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    condition: str | None = None


class GotoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str


class LabelParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None


def condition_of(action: dict[str, Any]) -> Any:
    return action.get("condition", params_of(action).get("condition"))


class IfAction(Action):
    type = "IF"
    Params = IfParams
    keys = frozenset({"condition", "then", "orElse", "else"})
    branches = ("then", "orElse", "else")

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        branch = (
            "then"
            if truthy(evaluate(str(condition_of(action)), ctx.scope))
            else ("orElse" if "orElse" in action else "else")
        )
        if action.get(branch):
            return Jump((*path, branch, 0))
        return NEXT


class GotoAction(Action):
    type = "GOTO"
    Params = GotoParams

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        label = params_of(action).get("label")
        target = ctx.flow.labels.get(str(label))
        if target is None:
            raise FlowError(f"GOTO to undefined label {label!r}", pointer=pointer_of(path))
        return Jump(target)


class LabelAction(Action):
    type = "LABEL"
    Params = LabelParams

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        return NEXT
