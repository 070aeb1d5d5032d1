"""The prompt of COLLECT and RECORD: their first nested SAY or PLAY."""

from __future__ import annotations

from typing import Any

from switchboard.flow.actions.base import Context, nested, params_of
from switchboard.flow.actions.say import say_of
from switchboard.providers.actions import Play, Say

FINISH_KEYS = {"pound": "#", "hash": "#", "star": "*"}


def prompt_of(ctx: Context, action: dict[str, Any]) -> Say | Play | None:
    for item in nested(action):
        kind = str(item.get("type", "")).upper()
        if kind == "SAY":
            return say_of(ctx, params_of(item))
        if kind == "PLAY":
            return Play(url=ctx.render(params_of(item)["url"]))
    return None


def finish_key(value: Any) -> str | None:
    """``#``/``pound``, ``*``/``star`` or a digit → the key; empty → None."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    return FINISH_KEYS.get(text, text)


def check_finish_key(value: str | None) -> str | None:
    if value is not None and finish_key(value) not in set("0123456789*#"):
        raise ValueError("must be '#' (or 'pound'), '*' (or 'star') or a digit")
    return value
