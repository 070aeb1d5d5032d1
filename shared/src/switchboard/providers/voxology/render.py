"""Render provider actions as a Voxology call-flow document (``voxology.md`` §4): ``{"actions": [..]}``.

COLLECT and RECORD carry a ``name`` per reply step (``sb<step>``); timeouts go out in ms;
``finish_on_key`` as ``#``. A bridge is a TRANSFER to one number; a reply that waits for input ends
with the COLLECT, so Voxology's loop calls back with the digits. A call that ends gets an explicit
HANGUP (Voxology would otherwise call back for more).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from switchboard.errors import FlowError
from switchboard.providers.actions import (
    Conference,
    Detect,
    Dial,
    Enqueue,
    GetDigits,
    Hangup,
    Pause,
    Play,
    ProviderAction,
    Record,
    Redirect,
    Reject,
    Say,
)

CONTENT_TYPE = "application/json"


def _prompt(prompt: Say | Play | None) -> list[dict[str, Any]]:
    if isinstance(prompt, Say):
        return [{"type": "SAY", "params": {"text": prompt.text}}]
    if isinstance(prompt, Play):
        return [{"type": "PLAY", "params": {"url": prompt.url}}]
    return []


def _one(action: ProviderAction, step: int) -> dict[str, Any] | None:
    if isinstance(action, Say):
        return {"type": "SAY", "params": {"text": action.text}}
    if isinstance(action, Play):
        return {"type": "PLAY", "params": {"url": action.url}}
    if isinstance(action, GetDigits):
        params: dict[str, Any] = {"num_digits": action.num_digits, "timeout": (action.timeout_s or 10) * 1000}
        if action.finish_on_key:
            params["finish_on_key"] = action.finish_on_key
        return {
            "type": "COLLECT",
            "name": f"sb{step}",
            "params": {k: v for k, v in params.items() if v is not None},
            "actions": _prompt(action.prompt),
        }
    if isinstance(action, Record):
        rec: dict[str, Any] = {"max_length": action.max_length_s, "finish_on_key": action.finish_on_key}
        return {
            "type": "RECORD",
            "name": f"sb{step}",
            "params": {k: v for k, v in rec.items() if v is not None},
            "actions": _prompt(action.prompt),
        }
    if isinstance(action, Dial):
        if len(action.numbers) != 1:
            raise FlowError("Voxology bridges to one number at a time (TRANSFER); DIAL listed several")
        return {"type": "TRANSFER", "params": {"no": action.numbers[0]}}
    if isinstance(action, Enqueue):
        return {"type": "QUEUE", "params": {"name": action.name or "default"}}
    if isinstance(action, Conference):
        conf: dict[str, Any] = {"name": action.name, "end_on_exit": "true" if action.end_on_exit else "false"}
        if action.max_participants:
            conf["max_participants"] = action.max_participants
        if action.event:
            conf["event"] = action.event
        rendered: dict[str, Any] = {"type": "CONFERENCE", "params": conf}
        if action.events:  # run by Voxology in place (voxology.md §4 rule 1)
            rendered["events"] = {
                name: [r for a in actions if (r := _one(a, step)) is not None]
                for name, actions in action.events.items()
            }
        return rendered
    if isinstance(action, Redirect):
        return None  # Voxology's loop calls back by itself when the list runs out
    if isinstance(action, Reject):
        return {"type": "REJECT"}
    if isinstance(action, Hangup):
        return {"type": "HANGUP"}
    if isinstance(action, Pause):
        return {"type": "PAUSE", "params": {"length": action.length_s}}
    if isinstance(action, Detect):
        return {"type": "DETECT", "params": {"on_machine": action.on_machine}}
    raise FlowError(f"Voxology cannot carry out {action.kind}")


def render(actions: Sequence[ProviderAction], *, step: int = 0) -> tuple[bytes, str]:
    """Return ``(json_bytes, content_type)``. ``step`` names this reply's COLLECT/RECORD.
    Raises :class:`FlowError` for an action Voxology cannot carry out."""
    out = [a for a in (_one(action, step) for action in actions) if a is not None]
    return orjson.dumps({"actions": out}), CONTENT_TYPE
