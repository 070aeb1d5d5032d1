"""REJECT: refuse an inbound call before answering it (no charge). It must be the first
provider-facing action of the flow; validation says so otherwise.

Example: ``{"type": "REJECT"}``
"""

from __future__ import annotations

from typing import Any

from switchboard.flow.actions.base import END, Action, Context, Outcome
from switchboard.flow.document import Path_
from switchboard.providers.actions import Reject


class RejectAction(Action):
    type = "REJECT"
    provider_facing = True
    terminal = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        ctx.out.append(Reject())
        return END
