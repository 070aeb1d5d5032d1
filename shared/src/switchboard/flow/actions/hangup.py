"""HANGUP: end the call after what was collected so far has been played.

Example: ``{"type": "HANGUP"}``
"""

from __future__ import annotations

from typing import Any

from switchboard.flow.actions.base import END, Action, Context, Outcome
from switchboard.flow.document import Path_
from switchboard.providers.actions import Hangup


class HangupAction(Action):
    type = "HANGUP"
    provider_facing = True
    terminal = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        ctx.out.append(Hangup())
        return END
