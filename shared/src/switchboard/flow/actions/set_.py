"""SET: ``params: {"name": "expression", ..}`` assigns variables (``$name``). Voxology's bare
assignment object ``{"$name": "expression"}`` (no ``type``) is read as a SET.

Examples: ``{"type": "SET", "params": {"tries": "int($tries) + 1"}}``, ``{"$target": "'+254700000200'"}``
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Node
from switchboard.flow.expressions import evaluate
from switchboard.flow.variables import NATIVE_VARIABLES

NAME = re.compile(r"^\$?[A-Za-z_][A-Za-z0-9_]*$")


class SetParams(BaseModel):
    """Any number of ``name: expression`` pairs (kept in ``model_extra``, in document order)."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def names_and_expressions(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data:
            raise ValueError("SET needs at least one 'name': 'expression' pair")
        for key, value in data.items():
            if not NAME.match(str(key)):
                raise ValueError(f"{key!r} is not a variable name")
            if str(key).lstrip("$") in NATIVE_VARIABLES:
                raise ValueError(f"{key!r} is a native variable and cannot be set")
            if not isinstance(value, str | int | float | bool) and value is not None:
                raise ValueError(f"the value of {key!r} must be an expression string")
        return data


class SetAction(Action[SetParams]):
    type = "SET"
    Params = SetParams

    def step(self, ctx: Context, node: Node[SetParams]) -> Outcome:
        for key, expression in (node.params.model_extra or {}).items():
            name = str(key).lstrip("$")
            value = evaluate(expression, ctx.scope) if isinstance(expression, str) else expression
            ctx.state.variables[name] = value
            ctx.scope[name] = value
        return NEXT
