"""Infobip voice messages (``infobip.md``): one-way calls that Infobip places and plays itself.

There is no live call-control loop (§1): a flow is compiled, at dial time, into one advanced voice
message (``compiler``), what it cannot express is refused by validation before anything is sent,
and the outcome comes back as a delivery report, pushed or pulled once (``reports``, ``poller``),
with the logs (48 h) for reconciliation. ``PROVIDER`` is the adapter (``provider``).
"""

from switchboard.providers.infobip.provider import PROVIDER

__all__ = ["PROVIDER"]
