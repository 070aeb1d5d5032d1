"""QUEUE and DEQUEUE: call queues (Africa's Talking Enqueue/Dequeue).

QUEUE params: ``name``, ``hold_music_url``. The caller waits, hearing the hold music, until an
agent dequeues them or they hang up. DEQUEUE params: ``phone_number`` (the number callers dialled
to join the queue), ``name``: connects this caller (an agent) to the caller at the head of the queue.

Examples: ``{"type": "QUEUE", "params": {"name": "support", "hold_music_url": "https://m.test/hold.mp3"}}``,
``{"type": "DEQUEUE", "params": {"phone_number": "+254711000300", "name": "support"}}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from switchboard.flow.actions.base import WAIT, Action, Context, Outcome, params_of
from switchboard.flow.actions.play import check_media_url
from switchboard.flow.document import Path_
from switchboard.providers.actions import Dequeue, Enqueue


class QueueParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    hold_music_url: str | None = None

    _hold = field_validator("hold_music_url")(check_media_url)


class DequeueParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone_number: str
    name: str | None = None


class QueueAction(Action):
    type = "QUEUE"
    Params = QueueParams
    provider_facing = True
    waits = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        params = params_of(action)
        ctx.out.append(
            Enqueue(
                name=ctx.render(params["name"]) if params.get("name") else None,
                hold_music_url=params.get("hold_music_url"),
            )
        )
        ctx.state.waiting = {"action": self.type}
        return WAIT


class DequeueAction(Action):
    type = "DEQUEUE"
    Params = DequeueParams
    provider_facing = True
    waits = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        params = params_of(action)
        ctx.out.append(
            Dequeue(
                phone_number=ctx.render(params["phone_number"]),
                name=ctx.render(params["name"]) if params.get("name") else None,
            )
        )
        ctx.state.waiting = {"action": self.type}
        return WAIT
