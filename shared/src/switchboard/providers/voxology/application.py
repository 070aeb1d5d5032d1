"""The request Voxology itself sends an application, built from Switchboard's call state: for a
flow written for Voxology (``dialect: voxology``, the default on Voxology calls), REDIRECT and
WEBHOOK post this body, so an application written for Voxology's callbacks works behind
Switchboard on any provider.

Source: ``voxology.md`` §3 (callback request: fields, types, the example). ``type`` is
``init_call`` for a call's first request and ``live_call`` after; ``key_presses`` is a list of
``{name, digits}`` (one per COLLECT, by its ``name``), ``recordings`` a list of ``{name, id}``;
``start_time`` ISO-8601 UTC with milliseconds and ``Z``; ``duration`` milliseconds since the
answer (the spec's assumption); ``custom_data`` null (a Voxology number's configuration has no
counterpart here); ``status`` ``live-in-progress``.
"""

from __future__ import annotations

from typing import Any

from switchboard.events import CallEvent
from switchboard.state import CallState

APP_ID = "switchboard"
"""``app_id`` for requests Switchboard sends on behalf of a flow (no Voxology application exists)."""


def application_request(state: CallState, event: CallEvent | None, scope: dict[str, Any]) -> dict[str, Any]:
    """Voxology's callback body (``voxology.md`` §3) for the call as it stands."""
    started = state.answered_at
    return {
        "type": "init_call" if state.reply_seq == 0 and event is not None else "live_call",
        "app_id": APP_ID,
        "subaccount_id": "0",
        "call_id": state.call_id or state.call_key,
        "start_time": started.isoformat(timespec="milliseconds").replace("+00:00", "Z") if started else None,
        "direction": state.direction.value,
        "duration": scope.get("callTime") or 0,
        "status": "live-in-progress",
        "detection": state.variables.get("detection"),
        "caller_no": state.caller_number,
        "api_no": state.destination_number,
        "key_presses": [{"name": name, "digits": digits} for name, digits in state.collected.items()],
        "recordings": [{"name": name, "id": url} for name, url in state.recordings.items()],
        "custom_data": None,
        "session_data": state.session_data,
    }
