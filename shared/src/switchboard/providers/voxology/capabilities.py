"""What Voxology can carry out (``voxology.md`` §4). No DEQUEUE exists in its action list; DIAL
with several numbers cannot bridge (Voxology's DIAL starts a separate leg), so a bridge is a
TRANSFER to one number. SMS is a separate REST call the adapter does not wrap yet."""

from __future__ import annotations

from switchboard.providers.capabilities import Capabilities

CAPABILITIES = Capabilities(
    provider="voxology",
    display_name="Voxology",
    actions=frozenset(
        {
            "SAY",
            "PLAY",
            "COLLECT",
            "RECORD",
            "DIAL",
            "TRANSFER",
            "QUEUE",
            "CONFERENCE",
            "REJECT",
            "HANGUP",
            "PAUSE",
            "DETECT",
        }
    ),
    max_per_reply=None,
)
