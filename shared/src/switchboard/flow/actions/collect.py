"""COLLECT: gather DTMF digits.

Params: ``num_digits``, ``timeout`` (ms), ``finish_on_key`` (``#``/``pound``, ``*``/``star`` or a
digit); the prompt is the first SAY/PLAY of the nested ``actions`` (top level, as Voxology writes
it, or in ``params``). The DTMF digits land in ``$keyPresses`` and in ``$collected.<name>``; an unnamed
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
from switchboard.flow.actions.base import WAIT, Action, Context, Outcome, seconds_from_ms
from switchboard.flow.actions.prompt import check_finish_key, finish_key, prompt_of
from switchboard.flow.document import Node
from switchboard.providers.actions import GetDigits, Redirect
from switchboard.state import Waiting, WaitingForDigits


class CollectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    num_digits: int | None = Field(default=None, ge=1, le=64)
    timeout: int | None = Field(default=None, ge=0, le=600_000, description="ms")
    finish_on_key: str | None = None
    actions: list[dict[str, Any]] | None = None

    _key = field_validator("finish_on_key")(check_finish_key)


def wait_name(node: Node[Any], prefix: str, store: dict[str, Any]) -> str:
    """The action's ``name``, or ``<prefix>_<n>``: n-th unnamed one the call met (n from 1)."""
    ordinal = sum(1 for k in store if k.startswith(f"{prefix}_")) + 1
    return str(node.doc.get("name") or f"{prefix}_{ordinal}")


class CollectAction(Action[CollectParams]):
    type = "COLLECT"
    Params = CollectParams
    keys = frozenset({"actions"})
    prompts = ("actions",)
    provider_facing = True
    waits = True

    def step(self, ctx: Context, node: Node[CollectParams]) -> Outcome:
        params = node.params
        key = finish_key(params.finish_on_key)
        ctx.out.append(
            GetDigits(
                prompt=prompt_of(ctx, node),
                num_digits=params.num_digits,
                timeout_s=seconds_from_ms(params.timeout),
                finish_on_key=key,
                callback_url=ctx.callback_url(),
            )
        )
        if no_input := ctx.callback_url(noinput="1"):
            ctx.out.append(Redirect(url=no_input))
        ctx.state.waiting = WaitingForDigits(name=wait_name(node, "collect", ctx.state.collected), finish_on_key=key)
        return WAIT

    def resume(self, ctx: Context, waiting: Waiting, event: CallEvent) -> None:
        assert isinstance(waiting, WaitingForDigits)
        digits = event.digits or ""
        key = waiting.finish_on_key
        if key and digits.endswith(key):
            digits = digits[: -len(key)]
        ctx.state.digits = digits
        ctx.state.collected[waiting.name] = digits
