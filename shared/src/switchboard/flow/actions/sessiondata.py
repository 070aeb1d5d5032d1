"""SESSIONDATA: shallow-merge the top-level ``session_data: {..}`` (string values are templates) into
``$sessionData``; visible to later callbacks and kept in the CDR.

Example: ``{"type": "SESSIONDATA", "session_data": {"tries": "0"}}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Node


class SessionDataParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_data: dict[str, Any] | None = None


class SessionDataAction(Action[SessionDataParams]):
    type = "SESSIONDATA"
    Params = SessionDataParams
    keys = frozenset({"session_data"})

    def step(self, ctx: Context, node: Node[SessionDataParams]) -> Outcome:
        data = node.doc.get("session_data") or node.params.session_data or {}
        for key, value in data.items():
            ctx.state.session_data[key] = ctx.render(value) if isinstance(value, str) else value
        ctx.scope["sessionData"] = ctx.state.session_data
        return NEXT
