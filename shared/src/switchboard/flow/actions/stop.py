"""STOP: stop running actions without hanging up: the call stays where it is (in a conference or a
queue); if the provider comes back, the flow goes on after the STOP.

Example: ``{"type": "STOP"}``
"""

from __future__ import annotations

from typing import Any

from switchboard.flow.actions.base import HOLD, Action, Context, Outcome
from switchboard.flow.document import Path_


class StopAction(Action):
    type = "STOP"
    terminal = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        return HOLD
