"""IF: run ``then`` when ``condition`` (an expression; top level, as Voxology writes it, or in
``params``) is truthy, else ``orElse`` (``else`` accepted). An empty chosen branch goes on after the IF.

Example: ``{"type": "IF", "condition": "$keyPresses == 1", "then": [..], "orElse": [..]}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from switchboard.flow.actions.base import NEXT, Action, Context, Jump, Outcome, params_of
from switchboard.flow.document import Path_
from switchboard.flow.expressions import evaluate, truthy


class IfParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    condition: str | None = None


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
