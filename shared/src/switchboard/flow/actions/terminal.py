"""HANGUP, REJECT and STOP: the ways a flow stops.

- HANGUP: end the call after what was collected so far has been played.
- REJECT: refuse an inbound call before answering it (no charge). It must be the first
  provider-facing action of the flow; validation says so otherwise.
- STOP: stop running actions without hanging up: the call stays where it is (in a conference or a
  queue); if the provider comes back, the flow goes on after the STOP.

Examples: ``{"type": "HANGUP"}``, ``{"type": "REJECT"}``, ``{"type": "STOP"}``
"""

from __future__ import annotations

from typing import Any

from switchboard.flow.actions.base import END, HOLD, Action, Context, Outcome
from switchboard.flow.document import Path_
from switchboard.providers.actions import Hangup, Reject


class HangupAction(Action):
    type = "HANGUP"
    provider_facing = True
    terminal = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        ctx.out.append(Hangup())
        return END


class RejectAction(Action):
    type = "REJECT"
    provider_facing = True
    terminal = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        ctx.out.append(Reject())
        return END


class StopAction(Action):
    type = "STOP"
    terminal = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        return HOLD
