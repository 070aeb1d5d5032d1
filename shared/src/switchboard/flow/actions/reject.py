"""REJECT: refuse an inbound call before answering it (no charge) when it is the first
provider-facing action. After others (a SAY, say) they run and the call then ends, answered and
charged: Africa's Talking's own example app answers ``<Say>…</Say><Reject/>`` (africastalking.md
§4, §8); validation warns that the call is not refused unanswered then.

Example: ``{"type": "REJECT"}``
"""

from __future__ import annotations

from switchboard.flow.actions.base import END, Action, Context, NoParams, Outcome
from switchboard.flow.document import Node
from switchboard.providers.actions import Reject


class RejectAction(Action[NoParams]):
    type = "REJECT"
    provider_facing = True
    terminal = True

    def step(self, ctx: Context, node: Node[NoParams]) -> Outcome:
        ctx.out.append(Reject())
        return END
