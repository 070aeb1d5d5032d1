"""Server-side control flow: IF, GOTO, LABEL (Voxology semantics; FLOW-LANGUAGE.md).

- IF: ``condition`` (expression; at the top level as Voxology writes it, or in ``params``),
  ``then: [..]``, ``orElse: [..]`` (``else`` accepted). An empty chosen branch goes on after the IF.
- GOTO: ``params.label`` → continue at that LABEL.
- LABEL: ``params.name`` (or the action's ``name``); does nothing when run.
"""

from __future__ import annotations

from typing import Any

from switchboard.errors import FlowError
from switchboard.flow.actions.base import NEXT, Action, Context, Jump, Outcome
from switchboard.flow.document import Path_, pointer_of
from switchboard.flow.expressions import evaluate, truthy


class IfAction(Action):
    type = "IF"
    params = frozenset({"condition"})

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        condition = action.get("condition", (action.get("params") or {}).get("condition"))
        branch = "then" if truthy(evaluate(str(condition), ctx.scope)) else "orElse"
        if action.get(branch):
            return Jump((*path, branch, 0))
        return NEXT


class GotoAction(Action):
    type = "GOTO"
    params = frozenset({"label"})
    required = frozenset({"label"})

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        label = (action.get("params") or {}).get("label")
        target = ctx.flow.labels.get(str(label))
        if target is None:
            raise FlowError(f"GOTO to undefined label {label!r}", pointer=pointer_of(path))
        return Jump(target)


class LabelAction(Action):
    type = "LABEL"
    params = frozenset({"name"})

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        return NEXT
