"""QUEUE: put the caller in a call queue (``name``) with ``hold_music_url``; they wait until an agent
dequeues them or they hang up.

Example: ``{"type": "QUEUE", "params": {"name": "support", "hold_music_url": "https://m.test/hold.mp3"}}``
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from switchboard.flow.actions.base import WAIT, Action, Context, Outcome
from switchboard.flow.actions.play import check_media_url
from switchboard.flow.document import Node
from switchboard.providers.actions import Enqueue
from switchboard.state import WaitingInQueue


class QueueParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    hold_music_url: str | None = None

    _hold = field_validator("hold_music_url")(check_media_url)


class QueueAction(Action[QueueParams]):
    type = "QUEUE"
    Params = QueueParams
    provider_facing = True
    waits = True

    def step(self, ctx: Context, node: Node[QueueParams]) -> Outcome:
        params = node.params
        ctx.out.append(
            Enqueue(name=ctx.render(params.name) if params.name else None, hold_music_url=params.hold_music_url)
        )
        ctx.state.waiting = WaitingInQueue()
        return WAIT
