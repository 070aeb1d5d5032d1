"""HANGUP: end the call after what was collected so far has been played.

Example: ``{"type": "HANGUP"}``
"""

from __future__ import annotations

from switchboard.flow.actions.base import END, Action, Context, NoParams, Outcome
from switchboard.flow.document import Node
from switchboard.providers.actions import Hangup


class HangupAction(Action[NoParams]):
    type = "HANGUP"
    provider_facing = True
    terminal = True

    def step(self, ctx: Context, node: Node[NoParams]) -> Outcome:
        ctx.out.append(Hangup())
        return END
