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

DIALECTS = ("switchboard", "voxology")
"""How a flow's customer application expects REDIRECT and WEBHOOK requests: Switchboard's call
JSON (below) or the request Voxology sends (``switchboard.providers.voxology.application``)."""


def dialect_of(flow_dialect: str | None, provider: str) -> str:
    """The flow's ``dialect`` when it names one; else ``voxology`` for a call on Voxology (an
    application behind a Voxology number expects Voxology's requests) and ``switchboard`` elsewhere."""
    return flow_dialect or ("voxology" if provider == "voxology" else "switchboard")


def dynamic_flow(ctx: Any, url: str | None, actions: list[dict[str, Any]]) -> dict[str, Any]:
    """The flow document an application's answer continues the call with: its ``actions``, in
    the dialect of the flow that called it (an application keeps getting the requests it expects)."""
    doc: dict[str, Any] = {"name": f"dynamic:{url}", "actions": actions}
    if ctx.flow.dialect:
        doc["dialect"] = ctx.flow.dialect
    return doc


def application_request(
    dialect: str, state: CallState, event: CallEvent | None, scope: dict[str, Any]
) -> dict[str, Any]:
    """The body REDIRECT and WEBHOOK post to a customer application in ``dialect``."""
    if dialect == "voxology":
        from switchboard.providers.voxology.application import application_request as voxology_request

        return voxology_request(state, event, scope)
    return call_json(state, event, scope)


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
