"""What Africa's Talking can render, for flow validation (ARCHITECTURE §6).

Keys are flow-language action types; ``max_per_reply`` None means unbounded (AT runs a whole
``<Response>`` of actions). Source: ``africastalking.md`` §4.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    provider: str
    actions: frozenset[str]
    max_per_reply: int | None


CAPABILITIES = Capabilities(
    provider="africastalking",
    actions=frozenset(
        {"SAY", "PLAY", "COLLECT", "RECORD", "DIAL", "TRANSFER", "QUEUE", "DEQUEUE", "REJECT", "HANGUP", "PAUSE"}
    ),
    max_per_reply=None,
)
