"""What Africa's Talking can carry out, for flow validation (ARCHITECTURE §6).

Source: ``africastalking.md`` §4. AT runs a whole ``<Response>`` of actions per reply. It has no
element for a pause, answering-machine detection or SMS (its SMS API is a separate product the
adapter does not wrap yet), so PAUSE and DETECT are refused at validation (there is no SMS action).
``<Conference>`` has no documented attributes: a flow's conference name, participant limit,
end-on-exit and events are not carried (validation warns at each).
"""

from __future__ import annotations

from switchboard.providers.capabilities import Capabilities

CAPABILITIES = Capabilities(
    provider="africastalking",
    display_name="Africa's Talking",
    actions=frozenset(
        {"SAY", "PLAY", "COLLECT", "RECORD", "DIAL", "TRANSFER", "QUEUE", "DEQUEUE", "CONFERENCE", "REJECT", "HANGUP"}
    ),
    max_per_reply=None,
    dropped={
        "CONFERENCE": {
            key: "Africa's Talking documents no attributes for <Conference> (africastalking.md §4, Unknowns): "
            "the caller joins one unnamed conference"
            for key in ("params/name", "params/max_participants", "params/end_on_exit", "params/event", "events")
        }
    },
)
