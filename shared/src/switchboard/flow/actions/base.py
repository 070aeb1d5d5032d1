"""The contract every flow action implements (STYLE §9: a verb per module, a registry).

An action is a resumable step: ``step(ctx, action, path) -> Outcome``. It may append
provider-facing actions to ``ctx.out`` and change ``ctx.state``; it never does I/O. The
interpreter decides what runs next from the :class:`Outcome`:

- :data:`NEXT`: go on with the following action;
- :class:`Jump`: go on at another path (IF into a branch, GOTO to a label);
- :data:`WAIT`: send what was collected and wait for the provider to come back (COLLECT); the
  action has put what it waits for in ``ctx.state.waiting`` and gets it back in ``resume``;
- :data:`END`: the call ends after this reply (HANGUP, REJECT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from switchboard.events import CallEvent
from switchboard.flow.document import Flow, Path_
from switchboard.flow.templates import render_template
from switchboard.providers.actions import ProviderAction
from switchboard.state import CallState


@dataclass(frozen=True)
class EngineSettings:
    """``callback_url``: the public URL the provider posts callbacks to (with ``?step=N`` added);
    ``None`` leaves callback URLs out. ``step_budget``: actions run per callback at most."""

    callback_url: str | None = None
    step_budget: int = 1000
    error_message: str = "Sorry, we are unable to continue this call. Goodbye."


@dataclass
class Context:
    flow: Flow
    state: CallState
    settings: EngineSettings
    scope: dict[str, Any]
    out: list[ProviderAction] = field(default_factory=list)

    def render(self, text: Any) -> str:
        return render_template(str(text), self.scope)

    def step_url(self, **extra: str) -> str | None:
        """The callback URL tagged with this reply's step (see ``CallState.step``)."""
        if not self.settings.callback_url:
            return None
        sep = "&" if "?" in self.settings.callback_url else "?"
        query = "&".join(f"{k}={v}" for k, v in {"step": str(self.state.step), **extra}.items())
        return f"{self.settings.callback_url}{sep}{query}"


class _Outcome:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NEXT = _Outcome("NEXT")
WAIT = _Outcome("WAIT")
END = _Outcome("END")


@dataclass(frozen=True)
class Jump:
    path: Path_


Outcome = _Outcome | Jump


class Action:
    """Base of every action module's class. ``params``: allowed param names (empty = any);
    ``required``: params that must be present; ``provider_facing``: rendered to the provider."""

    type: ClassVar[str]
    params: ClassVar[frozenset[str]] = frozenset()
    required: ClassVar[frozenset[str]] = frozenset()
    provider_facing: ClassVar[bool] = False

    def step(self, ctx: Context, action: dict[str, Any], path: Path_) -> Outcome:
        raise NotImplementedError

    def resume(self, ctx: Context, waiting: dict[str, Any], event: CallEvent) -> None:
        """Apply the provider's answer to what this action waited for."""


def seconds_from_ms(ms: Any) -> int | None:
    """Flow timeouts are ms; providers take whole seconds (rounded up)."""
    return None if ms is None else max(1, math.ceil(float(ms) / 1000))
