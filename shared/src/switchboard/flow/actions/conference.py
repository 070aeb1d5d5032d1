"""CONFERENCE: put the caller in a conference room.

Params: ``name`` (template), ``max_participants``, ``end_on_exit`` (bool or ``"true"``), ``event``;
top-level ``events`` (Voxology, voxology.md §4): an event's name (``on_enter``,
``on_enter_error_max_participants``) → a list of SAY, PLAY or HANGUP the provider runs in place
when it happens (a flow's "someone else already answered" branch). The next action runs after the
caller leaves the conference (or was refused a full room), where the provider comes back.

Example: ``{"type": "CONFERENCE", "params": {"name": "team-${sessionData.team}", "max_participants": 10}}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from switchboard.flow.actions.base import WAIT, Action, Context, Outcome
from switchboard.flow.actions.play import PlayParams, play_of
from switchboard.flow.actions.say import SayParams, say_of
from switchboard.flow.document import Node
from switchboard.providers.actions import Conference, Hangup, Play, Say
from switchboard.state import WaitingInConference

EVENT_ACTIONS = ("SAY", "PLAY", "HANGUP")
"""What a conference event may do: the provider runs it alone, without asking Switchboard."""


def event_problems(events: Any) -> list[tuple[str, str]]:
    """``(pointer below the action, message)`` for each thing wrong in a CONFERENCE's ``events``."""
    if not isinstance(events, dict):
        return [("/events", "'events' must be an object: event name → list of actions")]
    found: list[tuple[str, str]] = []
    for name, actions in events.items():
        if not isinstance(actions, list):
            found.append((f"/events/{name}", "an event takes a list of actions"))
            continue
        for i, action in enumerate(actions):
            kind = str(action.get("type", "")).upper() if isinstance(action, dict) else ""
            where = f"/events/{name}/{i}"
            if kind not in EVENT_ACTIONS:
                found.append(
                    (f"{where}/type", f"a conference event takes {', '.join(EVENT_ACTIONS)}, not {kind or '?'}")
                )
            elif kind != "HANGUP":
                model = SayParams if kind == "SAY" else PlayParams
                try:
                    model.model_validate(action.get("params") or {})
                except ValueError as exc:
                    found.append((f"{where}/params", str(exc).splitlines()[0]))
    return found


def _event_action(ctx: Context, action: dict[str, Any]) -> Say | Play | Hangup:
    kind = str(action["type"]).upper()
    if kind == "SAY":
        return say_of(ctx, SayParams.model_validate(action.get("params") or {}))
    if kind == "PLAY":
        return play_of(ctx, PlayParams.model_validate(action.get("params") or {}))
    return Hangup()


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
        events = node.doc.get("events") or {}
        ctx.out.append(
            Conference(
                name=ctx.render(params.name),
                max_participants=params.max_participants,
                end_on_exit=end is True or str(end).lower() == "true",
                event=params.event,
                events={name: [_event_action(ctx, a) for a in actions] for name, actions in events.items()},
            )
        )
        ctx.state.waiting = WaitingInConference()
        return WAIT
