"""The shape of a provider's capability table (ARCHITECTURE §6)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """``actions``: flow-language action types the provider can carry out (server-side actions are
    always available); ``max_per_reply``: provider-facing actions per reply (None: unbounded)."""

    provider: str
    display_name: str
    actions: frozenset[str]
    max_per_reply: int | None
