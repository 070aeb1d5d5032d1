"""FOREACH: run ``then`` once per item of ``params.iterator`` (an expression giving a list or an
object). The current item is ``$val``, its position (list) or key (object) ``$index``. The loop
survives callbacks (a COLLECT inside it waits for the caller and the loop goes on afterwards).
More items than ``EngineSettings.foreach_cap`` end the call politely.

Example: ``{"type": "FOREACH", "params": {"iterator": "$sessionData.questions"}, "then": [{"type": "COLLECT",
"params": {"num_digits": 1}, "actions": [{"type": "SAY", "params": {"text": "${val}"}}]}]}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from switchboard.errors import FlowError
from switchboard.flow.actions.base import NEXT, Action, Context, Jump, Outcome
from switchboard.flow.document import Node, Path_
from switchboard.flow.expressions import evaluate


class ForeachParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    iterator: str


class ForeachAction(Action[ForeachParams]):
    type = "FOREACH"
    Params = ForeachParams
    keys = frozenset({"then"})
    branches = ("then",)

    def _enter(self, ctx: Context, path: Path_, loop: dict[str, Any]) -> Outcome:
        index, item = loop["items"][loop["index"]]
        ctx.state.variables["val"] = item
        ctx.state.variables["index"] = index
        ctx.scope["val"], ctx.scope["index"] = item, index
        return Jump((*path, "then", 0))

    def step(self, ctx: Context, node: Node[ForeachParams]) -> Outcome:
        value = evaluate(node.params.iterator, ctx.scope)
        if isinstance(value, dict):
            items = [[k, v] for k, v in value.items()]
        elif isinstance(value, list):
            items = [[i, v] for i, v in enumerate(value)]
        elif value is None:
            items = []
        else:
            raise FlowError(
                f"FOREACH iterator gave {type(value).__name__}, not a list or object",
                pointer=node.pointer + "/params/iterator",
            )
        if len(items) > ctx.settings.foreach_cap:
            raise FlowError(
                f"FOREACH over {len(items)} items exceeds the cap of {ctx.settings.foreach_cap}",
                pointer=node.pointer,
            )
        if not items or not node.doc.get("then"):
            return NEXT
        loop = {"items": items, "index": 0}
        ctx.state.loops[node.pointer] = loop
        return self._enter(ctx, node.path, loop)

    def branch_end(self, ctx: Context, node: Node[ForeachParams]) -> Outcome:
        loop = ctx.state.loops.get(node.pointer)
        if loop is None:
            return NEXT
        loop["index"] += 1
        if loop["index"] < len(loop["items"]):
            return self._enter(ctx, node.path, loop)
        del ctx.state.loops[node.pointer]
        return NEXT
