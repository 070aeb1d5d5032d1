"""IF: run ``then`` when ``condition`` (an expression; top level, as Voxology writes it, or in
``params``) is truthy, else ``orElse`` (``else`` accepted). An empty chosen branch goes on after the IF.

Example: ``{"type": "IF", "condition": "$keyPresses == 1", "then": [..], "orElse": [..]}``
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from switchboard.flow.actions.base import NEXT, Action, Context, Jump, Outcome
from switchboard.flow.document import Node
from switchboard.flow.expressions import evaluate, truthy


class IfParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    condition: str | None = None


class IfAction(Action[IfParams]):
    type = "IF"
    Params = IfParams
    keys = frozenset({"condition", "then", "orElse", "else"})
    branches = ("then", "orElse", "else")

    def step(self, ctx: Context, node: Node[IfParams]) -> Outcome:
        action = node.doc
        condition = action.get("condition", node.params.condition)  # validation makes sure there is one
        branch = "then" if truthy(evaluate(str(condition), ctx.scope)) else ("orElse" if "orElse" in action else "else")
        if action.get(branch):
            return Jump((*node.path, branch, 0))
        return NEXT
