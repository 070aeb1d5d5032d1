"""SESSIONDATA: merge top-level ``session_data: {..}`` into ``$sessionData`` (values may be
templates). Visible to later callbacks and kept in the CDR."""

from __future__ import annotations

from typing import Any

from switchboard.flow.actions.base import NEXT, Action, Context, Outcome
from switchboard.flow.document import Path_


class SessionDataAction(Action):
    type = "SESSIONDATA"

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        data = action.get("session_data") or (action.get("params") or {}).get("session_data") or {}
        for key, value in data.items():
            ctx.state.session_data[key] = ctx.render(value) if isinstance(value, str) else value
        ctx.scope["sessionData"] = ctx.state.session_data
        return NEXT
