"""DEQUEUE: connect this caller (an agent) to the caller at the head of a queue. ``phone_number``:
the number callers dialled to join it; ``name``: the queue.

Example: ``{"type": "DEQUEUE", "params": {"phone_number": "+254711000301", "name": "support"}}``
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from switchboard.flow.actions.base import WAIT, Action, Context, Outcome
from switchboard.flow.document import Node
from switchboard.providers.actions import Dequeue
from switchboard.state import WaitingForDequeue


class DequeueParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone_number: str
    name: str | None = None


class DequeueAction(Action[DequeueParams]):
    type = "DEQUEUE"
    Params = DequeueParams
    provider_facing = True
    waits = True

    def step(self, ctx: Context, node: Node[DequeueParams]) -> Outcome:
        params = node.params
        ctx.out.append(
            Dequeue(
                phone_number=ctx.render(params.phone_number),
                name=ctx.render(params.name) if params.name else None,
            )
        )
        ctx.state.waiting = WaitingForDequeue()
        return WAIT
