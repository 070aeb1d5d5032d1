"""SET: ``params: {"name": "expression", ..}`` assigns variables (``$name``). Voxology's bare
assignment object ``{"$name": "expression"}`` (no ``type``; a ``comment`` beside the targets is
allowed) is read as a SET.

A target ``$sessionData.<key>`` sets the call's session data instead of a call variable: read back as
``$sessionData.<key>`` for the rest of the call (later callbacks too), kept in the CDR, and handed to
a second leg by a later ``DIAL`` with ``session_data: "$sessionData"`` (a copy as of that DIAL:
what is set afterwards stays on this leg). Sources: voxology.md §4 (assignment objects; DIAL's
top-level ``session_data``, e.g. ``"$sessionData"``), §5 (user-defined data read as
``$sessionData.key``).

Examples: ``{"type": "SET", "params": {"tries": "int($tries) + 1"}}``, ``{"$target": "'+254700000200'"}``,
``{"comment": "remember the choice", "$sessionData.choice": "$keyPresses"}``
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Node
from switchboard.flow.expressions import evaluate
from switchboard.flow.variables import NATIVE_VARIABLES

NAME = re.compile(r"^\$?(?:sessionData\.)?[A-Za-z_][A-Za-z0-9_]*$")
SESSION_DATA = "sessionData."


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
            if name.startswith(SESSION_DATA):
                ctx.state.session_data[name.removeprefix(SESSION_DATA)] = value
                ctx.scope["sessionData"] = ctx.state.session_data
            else:
                ctx.state.variables[name] = value
                ctx.scope[name] = value
        return NEXT
