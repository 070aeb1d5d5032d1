"""The normalized call JSON a customer application receives (dynamic flows, REDIRECT, WEBHOOK).

The same shape on every provider::

    {"call_id": "8f14…", "call_key": "africastalking:ATVId_…", "provider": "africastalking",
     "account": "default", "direction": "inbound", "caller_no": "+254700000001",
     "api_no": "+254711000200", "status": "active", "start_time": 1795238400000,
     "call_time": 12500, "step": 2,
     "event": {"type": "input.received", "digits": "1", "recording_url": null},
     "key_presses": "1", "collected": {"menu": "1"}, "recording_url": null, "recordings": {},
     "detection": null, "session_data": {...}, "variables": {...},
     "campaign_id": null, "attempt": null}

``start_time`` is epoch ms of the answer; ``call_time`` ms since then; ``step`` counts the replies
that waited for the caller (``CallState.reply_seq``); ``key_presses`` are the DTMF digits of the
last COLLECT. ``event`` is null when the
request is not caused by a provider callback (a WEBHOOK in the middle of a flow).
"""

from __future__ import annotations

from typing import Any

from switchboard.events import CallEvent
from switchboard.state import CallState


def call_json(state: CallState, event: CallEvent | None, scope: dict[str, Any]) -> dict[str, Any]:
    return {
        "call_id": state.call_id,
        "call_key": state.call_key,
        "provider": state.provider,
        "account": state.account,
        "direction": state.direction.value,
        "caller_no": state.caller_number,
        "api_no": state.destination_number,
        "status": state.status,
        "start_time": scope.get("startTime"),
        "call_time": scope.get("callTime"),
        "step": state.reply_seq,
        "event": None
        if event is None
        else {"type": event.type.value, "digits": event.digits, "recording_url": event.recording_url},
        "key_presses": state.digits,
        "collected": state.collected,
        "recording_url": state.recording_url,
        "recordings": state.recordings,
        "detection": state.variables.get("detection"),
        "session_data": state.session_data,
        "variables": {k: v for k, v in state.variables.items() if k not in ("val", "index")},
        "campaign_id": state.campaign_id,
        "attempt": state.attempt,
    }
