"""The shape of a provider's capability table (ARCHITECTURE §6)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Capabilities:
    """``actions``: flow-language action types the provider can carry out (server-side actions are
    always available); ``max_per_reply``: provider-facing actions per reply (None: unbounded).
    ``dropped``: for an action it carries out, the parts of it the provider does not (keys as
    written in a flow, ``params/<name>`` or a top-level key such as ``events``) → why, with the
    spec section; validation warns at each one a flow uses, so nothing is lost without a word.
    ``flow_check``: for a provider that takes a whole flow at once (Infobip's voice messages), the
    structural rules beyond the action list: the flow's normalised top-level actions in, ``(JSON
    pointer, reason)`` refusals out. ``one_message``: the provider plays a flow compiled into one
    message and reports only the outcome (no live callbacks, no replies)."""

    provider: str
    display_name: str
    actions: frozenset[str]
    max_per_reply: int | None
    dropped: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    flow_check: Callable[[Sequence[dict[str, Any]]], list[tuple[str, str]]] | None = None
    one_message: bool = False
    notes: tuple[str, ...] = ()
    """Rules beyond the action list, for ``docs/providers.md`` (one sentence each)."""
