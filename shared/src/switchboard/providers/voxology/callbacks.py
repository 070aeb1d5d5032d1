"""Parse Voxology callbacks (``voxology.md`` §3) into :class:`~switchboard.events.CallEvent`.

JSON bodies: ``type`` (``init_call``, ``live_call``, ``end_call``), ``call_id``, ``direction``,
``caller_no``, ``api_no``, ``key_presses`` ([{name, digits}], appended in execution order),
``recordings`` ([{name, id}]), ``duration`` (ms, assumption), ``status``, timestamps. The digits of
a ``live_call`` are those of the *last* ``key_presses`` entry: Switchboard sends at most one COLLECT
per reply, and the entry appended for it (``""`` when nothing was pressed) is the newest.
``session_data`` and ``custom_data`` are kept raw but never trusted (§6). Unknown fields are kept.
Raises :class:`~switchboard.errors.InvalidEvent` naming the field for a missing or malformed one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

from switchboard.errors import InvalidEvent
from switchboard.events import CallEvent, CallEventType, Direction

PROVIDER = "voxology"
TYPES = {
    "init_call": CallEventType.CALL_STARTED,
    "live_call": CallEventType.CALL_PROGRESS,
    "end_call": CallEventType.CALL_ENDED,
}
END_CAUSES = {
    "completed": "NORMAL_CLEARING",
    "hangup": "NORMAL_CLEARING",
    "no-answer": "NO_ANSWER",
    "no_answer": "NO_ANSWER",
    "busy": "USER_BUSY",
    "failed": "UNSPECIFIED",
    "rejected": "CALL_REJECTED",
    "canceled": "ORIGINATOR_CANCEL",
}


def _time(body: dict[str, Any], field: str) -> datetime | None:
    value = body.get(field)
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvent(f"{field}={value!r} is not an ISO-8601 time", field=field) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _list(body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    value = body.get(field) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidEvent(f"{field} must be a list of objects", field=field)
    return value


def parse_callback(body: Any, *, account: str = "default") -> CallEvent:
    if not isinstance(body, dict):
        raise InvalidEvent("the callback body must be a JSON object", field="body")
    kind = body.get("type")
    if kind not in TYPES:
        raise InvalidEvent(f"type={kind!r} is not init_call, live_call or end_call", field="type")
    for field in ("call_id", "caller_no", "api_no"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise InvalidEvent(f"required field {field!r} is missing", field=field)
    direction = str(body.get("direction") or "inbound").lower()
    if direction not in ("inbound", "outbound"):
        raise InvalidEvent(f"direction={body.get('direction')!r} is not inbound/outbound", field="direction")
    presses = _list(body, "key_presses")
    recordings = _list(body, "recordings")
    event_type = TYPES[kind]
    if kind == "live_call" and presses:
        event_type = CallEventType.INPUT_RECEIVED
    elif kind == "live_call" and recordings:
        event_type = CallEventType.RECORDING_RECEIVED
    duration = body.get("duration")
    if duration is not None and not isinstance(duration, int | float):
        raise InvalidEvent(f"duration={duration!r} is not a number (ms)", field="duration")
    status = str(body.get("status") or "")
    ended = kind == "end_call"
    raw = {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in body.items()}
    raw_session = body.get("session_data")
    session: dict[str, Any] = raw_session if isinstance(raw_session, dict) else {}
    return CallEvent(
        type=event_type,
        provider=PROVIDER,
        account=account,
        call_key=f"{PROVIDER}:{body['call_id']}",
        session_id=body["call_id"],
        call_id=str(session.get("sb_call_id")) if session.get("sb_call_id") else None,
        direction=Direction(direction),
        caller_number=body["caller_no"],
        destination_number=body["api_no"],
        digits=str(presses[-1].get("digits", "")) if presses else None,
        recording_url=f"voxology:recording:{recordings[-1].get('id')}" if recordings else None,
        provider_status=status or None,
        hangup_cause=END_CAUSES.get(status.lower(), status.upper() or None) if ended else None,
        duration_s=round(duration / 1000) if ended and duration is not None else None,
        call_start_time=_time(body, "start_time") if status.lower() not in ("no-answer", "no_answer", "busy") else None,
        expects_reply=not ended,
        raw=raw,
    )


def dedupe_key(raw_body: bytes, body: dict[str, Any]) -> str:
    """``call_id`` + ``type`` + SHA-256 of the body (spec §6 item 4)."""
    digest = hashlib.sha256(raw_body).hexdigest()
    return f"{body.get('call_id')}:{body.get('type')}:{digest[:32]}"
