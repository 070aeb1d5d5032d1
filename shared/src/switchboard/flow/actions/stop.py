"""STOP: halt: stop running actions without hanging up: the call stays where it is (in a conference or a
queue); if the provider comes back, the flow goes on after the STOP.

Example: ``{"type": "STOP"}``
"""

from __future__ import annotations

from switchboard.flow.actions.base import HALT, Action, Context, NoParams, Outcome
from switchboard.flow.document import Node


class StopAction(Action[NoParams]):
    type = "STOP"
    terminal = True

    def step(self, ctx: Context, node: Node[NoParams]) -> Outcome:
        return HALT
