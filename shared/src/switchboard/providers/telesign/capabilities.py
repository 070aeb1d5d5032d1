"""What Telesign can carry out (``telesign.md`` §3): ``speak`` (with ``collect_digits``), ``play``,
``dial`` (a bridge, to one number) and ``hangup``; one action per reply. No record, queue,
conference, reject, pause or detection action is documented."""

from __future__ import annotations

from switchboard.providers.capabilities import Capabilities

CAPABILITIES = Capabilities(
    provider="telesign",
    display_name="Telesign",
    actions=frozenset({"SAY", "PLAY", "COLLECT", "DIAL", "TRANSFER", "HANGUP"}),
    max_per_reply=1,
)
