"""Telesign Voice (Engage API, JSON-RPC) adapter. Reference: ``shared/specs/providers/telesign.md``.

Telesign takes one action per webhook reply. The flow-runner renders a batch of provider actions
with :func:`render_batch`, answers with the first, and keeps the rest in the call state
(``CallState.pending_replies``); each ``speak_completed``/``play_completed`` releases the next one,
and the flow runs again only when the list is empty.
"""

from switchboard.providers.telesign.callbacks import dedupe_key, parse_callback, verify_signature
from switchboard.providers.telesign.capabilities import CAPABILITIES
from switchboard.providers.telesign.client import TelesignClient
from switchboard.providers.telesign.provider import PROVIDER
from switchboard.providers.telesign.render import CONTENT_TYPE, render_batch

__all__ = [
    "CAPABILITIES",
    "CONTENT_TYPE",
    "PROVIDER",
    "TelesignClient",
    "dedupe_key",
    "parse_callback",
    "render_batch",
    "verify_signature",
]
