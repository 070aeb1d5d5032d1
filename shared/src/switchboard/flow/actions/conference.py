"""CONFERENCE: put the caller in a conference room.

Params: ``name`` (template), ``max_participants``, ``end_on_exit`` (bool or ``"true"``), ``event``;
top-level ``events`` (``on_enter`` …, Voxology) are accepted and kept for providers that run them.
The next action runs after the caller leaves the conference, where the provider comes back.

Example: ``{"type": "CONFERENCE", "params": {"name": "team-${sessionData.team}", "max_participants": 10}}``
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from switchboard.flow.actions.base import WAIT, Action, Context, Outcome
from switchboard.flow.document import Node
from switchboard.providers.actions import Conference
from switchboard.state import WaitingInConference


class ConferenceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    max_participants: int | None = Field(default=None, ge=2, le=1000)
    end_on_exit: bool | str = False
    event: str | None = None


class ConferenceAction(Action[ConferenceParams]):
    type = "CONFERENCE"
    Params = ConferenceParams
    keys = frozenset({"events"})
    provider_facing = True
    waits = True

    def step(self, ctx: Context, node: Node[ConferenceParams]) -> Outcome:
        params = node.params
        end = params.end_on_exit
        ctx.out.append(
            Conference(
                name=ctx.render(params.name),
                max_participants=params.max_participants,
                end_on_exit=end is True or str(end).lower() == "true",
            )
        )
        ctx.state.waiting = WaitingInConference()
        return WAIT
