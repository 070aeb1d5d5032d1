"""COLLECT: gather DTMF digits.

Params: ``num_digits``, ``timeout`` (ms), ``finish_on_key`` (``#``/``pound``, ``*``/``star`` or a
digit) and nested prompt ``actions`` (SAY/PLAY, the first one is used). The digits land in
``$keyPresses`` and, for a named action, in ``$collected.<name>``; unnamed ones are kept as
``collect_<n>`` (n = 1, 2, … in the order the call met them) for the CDR.

With a callback URL configured, a ``Redirect`` back to us follows the prompt, so a caller who
presses nothing comes back as a "no input" callback (``$keyPresses`` = ``""``) instead of being
hung up by the provider, as Twilio's ``<Gather>`` fall-through does.
"""

from __future__ import annotations

from typing import Any

from switchboard.events import CallEvent
from switchboard.flow.actions.base import WAIT, Action, Context, Outcome, seconds_from_ms
from switchboard.flow.actions.say import say_of
from switchboard.flow.document import Path_
from switchboard.providers.actions import GetDigits, Play, Redirect, Say

_KEYS = {"pound": "#", "hash": "#", "star": "*"}


def finish_key(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    return _KEYS.get(text, text)


class CollectAction(Action):
    type = "COLLECT"
    params = frozenset({"num_digits", "timeout", "finish_on_key", "actions", "max_digits"})
    provider_facing = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        params = action.get("params") or {}
        prompt: Say | Play | None = None
        for nested in params.get("actions") or []:
            kind = str(nested.get("type", "")).upper()
            if kind == "SAY":
                prompt = say_of(ctx, nested.get("params") or {})
                break
            if kind == "PLAY":
                prompt = Play(url=ctx.render((nested.get("params") or {})["url"]))
                break
        key = finish_key(params.get("finish_on_key"))
        ctx.out.append(
            GetDigits(
                prompt=prompt,
                num_digits=params.get("num_digits") or params.get("max_digits"),
                timeout_s=seconds_from_ms(params.get("timeout")),
                finish_on_key=key,
                callback_url=ctx.step_url(),
            )
        )
        no_input = ctx.step_url(noinput="1")
        if no_input:
            ctx.out.append(Redirect(url=no_input))
        ordinal = sum(1 for k in ctx.state.collected if k.startswith("collect_")) + 1
        ctx.state.waiting = {
            "action": self.type,
            "name": action.get("name") or f"collect_{ordinal}",
            "finish_on_key": key,
        }
        return WAIT

    def resume(self, ctx: Context, waiting: dict[str, Any], event: CallEvent) -> None:
        digits = event.digits or ""
        key = waiting.get("finish_on_key")
        if key and digits.endswith(key):
            digits = digits[: -len(key)]
        ctx.state.key_presses = digits
        ctx.state.collected[waiting["name"]] = digits
