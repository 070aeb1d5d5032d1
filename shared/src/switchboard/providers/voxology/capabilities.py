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
    dropped={
        "CONFERENCE": {
            "params/event": "Switchboard does not send CONFERENCE's 'event' to Voxology yet (voxology.md §4)",
            "events": "Switchboard does not send CONFERENCE events (on_enter, "
            "on_enter_error_max_participants) to Voxology yet (voxology.md §4): their actions never run",
        }
    },
)
