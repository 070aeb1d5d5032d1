"""COLLECT: gather DTMF digits.

Params: ``num_digits``, ``timeout`` (ms), ``finish_on_key`` (``#``/``pound``, ``*``/``star`` or a
digit); the prompt is the first SAY/PLAY of the nested ``actions`` (top level, as Voxology writes
it, or in ``params``). The digits land in ``$keyPresses`` and in ``$collected.<name>``; an unnamed
COLLECT is kept as ``collect_<n>`` (n = 1, 2, … in the order the call met them) for the CDR.

With a callback URL configured, a ``Redirect`` back to us follows the prompt, so a caller who
presses nothing comes back as a "no input" callback (``$keyPresses`` = ``""``) instead of being
hung up by the provider, as Twilio's ``<Gather>`` fall-through does.

Example: ``{"type": "COLLECT", "name": "menu", "params": {"num_digits": 1, "timeout": 5000},
"actions": [{"type": "SAY", "params": {"text": "Press 1 for sales."}}]}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from switchboard.events import CallEvent
from switchboard.flow.actions.base import WAIT, Action, Context, Outcome, params_of, seconds_from_ms
from switchboard.flow.actions.prompt import check_finish_key, finish_key, prompt_of
from switchboard.flow.document import Path_
from switchboard.providers.actions import GetDigits, Redirect


class CollectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    num_digits: int | None = Field(default=None, ge=1, le=64)
    timeout: int | None = Field(default=None, ge=0, le=600_000, description="ms")
    finish_on_key: str | None = None
    actions: list[dict[str, Any]] | None = None

    _key = field_validator("finish_on_key")(check_finish_key)


def wait_name(ctx: Context, action: dict[str, Any], prefix: str, store: dict[str, Any]) -> str:
    ordinal = sum(1 for k in store if k.startswith(f"{prefix}_")) + 1
    return str(action.get("name") or f"{prefix}_{ordinal}")


class CollectAction(Action):
    type = "COLLECT"
    Params = CollectParams
    keys = frozenset({"actions"})
    prompts = ("actions",)
    provider_facing = True
    waits = True

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        params = params_of(action)
        key = finish_key(params.get("finish_on_key"))
        ctx.out.append(
            GetDigits(
                prompt=prompt_of(ctx, action),
                num_digits=params.get("num_digits"),
                timeout_s=seconds_from_ms(params.get("timeout")),
                finish_on_key=key,
                callback_url=ctx.step_url(),
            )
        )
        if no_input := ctx.step_url(noinput="1"):
            ctx.out.append(Redirect(url=no_input))
        ctx.state.waiting = {
            "action": self.type,
            "name": wait_name(ctx, action, "collect", ctx.state.collected),
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
