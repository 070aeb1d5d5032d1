"""The contract every flow action implements (STYLE §9: a verb per module, a registry).

An action is a resumable step: ``step(ctx, node) -> Outcome``, where ``node`` is the action in the
built flow with its validated ``params``. It may append provider-facing actions to ``ctx.out``,
typed :data:`Effect` s to ``ctx.effects`` and change ``ctx.state``; it never does I/O (an action
that needs I/O returns :class:`Fetch` and the runner does it). The interpreter decides what runs
next from the :class:`Outcome`:

- :data:`NEXT`: go on with the following action;
- :class:`Jump`: go on at another path (IF into a branch, GOTO to a label, FOREACH round);
- :data:`WAIT`: send what was collected and wait for the provider to come back (COLLECT, RECORD,
  DIAL, QUEUE …); what is awaited is in ``ctx.state.waiting`` and comes back through ``resume``;
- :data:`HALT`: stop running actions without hanging up (STOP);
- :data:`END`: the call ends after this reply (HANGUP, REJECT, terminal RECORD);
- :class:`Fetch`: the runner must make an HTTP request (WEBHOOK, REDIRECT to a URL) or load another
  flow (REDIRECT to a flow); the answer comes back through ``resume_fetch``.

Each action declares ``Params`` (a pydantic model, unknown keys refused): validation checks it,
the published JSON Schema is built from it, and its defaults are the only ones (``step`` reads
``node.params``). It also declares the top-level keys it uses besides ``params``.
"""

from __future__ import annotations

import builtins
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from switchboard.events import CallEvent
from switchboard.flow.document import Flow, Node, Path_
from switchboard.flow.templates import render_template
from switchboard.providers.actions import ProviderAction
from switchboard.state import CallState, Waiting
from switchboard.tollfraud import DialGuard


@dataclass(frozen=True)
class EngineSettings:
    """Limits and wording of the engine. Units: ms for ``*_ms``, bytes for ``*_bytes``.

    ``callback_url``: the public URL the provider posts callbacks to (``?step=N`` is added, N the
    call's ``reply_seq``); None leaves callback URLs out. ``action_budget``: actions run per
    callback at most. ``foreach_cap``:
    items one FOREACH may loop over. ``max_depth``: nesting of IF/FOREACH. ``webhook_timeout_ms``:
    the longest a WEBHOOK/REDIRECT may wait (an action may ask for less). ``webhook_max_bytes``:
    largest answer read. ``max_fetches``: HTTP requests per callback. ``dial_guard``: the toll-fraud
    check a DIAL or TRANSFER destination must pass (:mod:`switchboard.tollfraud`; it returns the
    reason a number is refused, and a refused number ends the call with the apology instead of
    ringing); None checks nothing (the engine's own tests and benchmarks).
    """

    callback_url: str | None = None
    action_budget: int = 1000
    foreach_cap: int = 100
    max_depth: int = 8
    webhook_timeout_ms: int = 3000
    webhook_max_bytes: int = 65536
    max_fetches: int = 5
    error_message: str = "Sorry, we are unable to continue this call. Goodbye."
    dial_guard: DialGuard | None = None


@dataclass(frozen=True)
class FetchRequest:
    """I/O an action needs. ``kind``: ``webhook`` (answer saved, may replace the flow), ``actions``
    (a customer application's action list replaces the flow) or ``flow`` (continue with the named
    flow; no HTTP). ``body`` is JSON; ``timeout_ms`` already capped by the engine settings."""

    kind: Literal["webhook", "actions", "flow"]
    url: str | None = None
    method: str = "POST"
    body: Any = None
    timeout_ms: int = 3000
    flow: str | None = None


@dataclass(frozen=True)
class FetchAnswer:
    """What came back: ``data`` is the parsed JSON (None on error); ``error`` says what went wrong
    (timeout, status, size, not JSON)."""

    data: Any = None
    error: str | None = None
    status: int | None = None


@dataclass(frozen=True)
class PlaceCall:
    """DIAL with a ``flow`` or ``session_data``: place a separate outbound call to ``to`` running
    ``flow`` (a flow name or an application URL) with ``session_data``. The runner publishes it as
    a ``DialRequest`` on the call's own provider and account; ``caller_id`` None means the
    account's number."""

    to: str
    flow: str
    session_data: dict[str, Any]
    caller_id: str | None = None


Effect = PlaceCall
"""What a run asks the runner to do besides replying (``CallEventHandler._effects``)."""


@dataclass
class Context:
    flow: Flow
    state: CallState
    settings: EngineSettings
    scope: dict[str, Any]
    event: CallEvent | None = None
    out: list[ProviderAction] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    replace_with: dict[str, Any] | None = None  # a dynamic flow document to continue with
    switch_to: Flow | None = None  # a named flow to continue with
    at: tuple[int | str, ...] | None = None  # the path of the action running (state.pc is set at a stop)
    ran: list[Any] = field(default_factory=list)  # the Nodes run this turn, in order (the call's step trail)

    def render(self, text: Any) -> str:
        return render_template(str(text), self.scope)

    def callback_url(self, **extra: str) -> str | None:
        """The callback URL tagged with this reply's sequence number: ``?step=<reply_seq>`` (the
        query name is part of the callback URL contract, see ``CallState.reply_seq``), then
        ``extra``; None without a configured callback URL."""
        if not self.settings.callback_url:
            return None
        sep = "&" if "?" in self.settings.callback_url else "?"
        query = "&".join(f"{k}={v}" for k, v in {"step": str(self.state.reply_seq), **extra}.items())
        return f"{self.settings.callback_url}{sep}{query}"


class _Outcome:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NEXT = _Outcome("NEXT")
WAIT = _Outcome("WAIT")
HALT = _Outcome("HALT")
END = _Outcome("END")


@dataclass(frozen=True)
class Jump:
    path: Path_


@dataclass(frozen=True)
class Fetch:
    request: FetchRequest


Outcome = _Outcome | Jump | Fetch


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


P = TypeVar("P", bound=BaseModel)


class Action(Generic[P]):
    """Base of every action module's class; ``P`` is its ``Params`` model.

    ``Params``: the ``params`` object's model (the same class as ``P``). ``keys``: top-level keys
    the action uses besides ``type``, ``params``, ``name`` and comments. ``branches``: keys holding
    nested action lists the interpreter runs (``then``/``orElse``); ``prompts``: nested lists that
    are rendered, not run. ``provider_facing``: rendered to the provider (checked against its
    capability table). ``waits``: a point where the provider comes back (a loop through one is not
    a spin). ``terminal``: nothing after it in the same list can run, except from a LABEL on.
    """

    type: ClassVar[str]
    Params: ClassVar[builtins.type[BaseModel]] = NoParams
    keys: ClassVar[frozenset[str]] = frozenset()
    branches: ClassVar[tuple[str, ...]] = ()
    prompts: ClassVar[tuple[str, ...]] = ()
    provider_facing: ClassVar[bool] = False
    waits: ClassVar[bool] = False
    terminal: ClassVar[bool] = False

    def step(self, ctx: Context, node: Node[P]) -> Outcome:
        raise NotImplementedError

    def resume(self, ctx: Context, waiting: Waiting, event: CallEvent) -> None:
        """Apply the provider's answer to what this action waited for (``waiting`` is the one this
        action stored in ``ctx.state.waiting``)."""

    def resume_fetch(self, ctx: Context, waiting: Waiting, answer: FetchAnswer) -> Outcome:
        """Apply the answer of a :class:`Fetch` this action asked for."""
        return NEXT

    def branch_end(self, ctx: Context, node: Node[P]) -> Outcome:
        """A branch of this action ran to its end: what next? (FOREACH loops; IF goes on.)"""
        return NEXT


def seconds_from_ms(ms: int | None) -> int | None:
    """Flow timeouts are ms; providers take whole seconds (rounded up)."""
    return None if ms is None else max(1, math.ceil(ms / 1000))
