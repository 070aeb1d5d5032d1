"""The shape of a provider's capability table (ARCHITECTURE §6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Capabilities:
    """``actions``: flow-language action types the provider can carry out (server-side actions are
    always available); ``max_per_reply``: provider-facing actions per reply (None: unbounded).
    ``dropped``: for an action it carries out, the parts of it the provider does not (keys as
    written in a flow, ``params/<name>`` or a top-level key such as ``events``) → why, with the
    spec section; validation warns at each one a flow uses, so nothing is lost without a word."""

    provider: str
    display_name: str
    actions: frozenset[str]
    max_per_reply: int | None
    dropped: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
