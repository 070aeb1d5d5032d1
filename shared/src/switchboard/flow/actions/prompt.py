"""The prompt of COLLECT and RECORD (their first nested SAY or PLAY, ``Node.prompt``) and their
finishing key."""

from __future__ import annotations

from typing import Any

from switchboard.flow.actions.base import Context
from switchboard.flow.actions.play import PlayParams, play_of
from switchboard.flow.actions.say import SayParams, say_of
from switchboard.flow.document import Node
from switchboard.providers.actions import Play, Say

FINISH_KEYS = {"pound": "#", "hash": "#", "star": "*"}


def prompt_of(ctx: Context, node: Node[Any]) -> Say | Play | None:
    prompt = node.prompt
    if prompt is None:
        return None
    if isinstance(prompt.params, SayParams):
        return say_of(ctx, prompt.params)
    assert isinstance(prompt.params, PlayParams)
    return play_of(ctx, prompt.params)


def finish_key(value: str | None) -> str | None:
    """``#``/``pound``, ``*``/``star`` or a digit → the key; empty → None."""
    if value is None or value == "":
        return None
    text = value.strip().lower()
    return FINISH_KEYS.get(text, text)


def check_finish_key(value: str | None) -> str | None:
    if value is not None and finish_key(value) not in set("0123456789*#"):
        raise ValueError("must be '#' (or 'pound'), '*' (or 'star') or a digit")
    return value
