"""Parse Voxology callbacks (``voxology.md`` §3) into :class:`~switchboard.events.CallEvent`.

JSON bodies: ``type`` (``init_call``, ``live_call``, ``end_call``), ``call_id``, ``direction``,
``caller_no``, ``api_no``, ``key_presses`` ([{name, digits}], appended in execution order),
``recordings`` ([{name, id}]), ``duration`` (ms, assumption), ``status``, timestamps. The digits of
a ``live_call`` are those of the *last* ``key_presses`` entry: Switchboard sends at most one COLLECT
per reply, and the entry appended for it (``""`` when nothing was pressed) is the newest.
``session_data`` and ``custom_data`` are kept raw but never trusted (§6). Unknown fields are kept.
Raises :class:`~switchboard.errors.InvalidEvent` naming the field for a missing or malformed one;
every field is checked against its bounds (:mod:`switchboard.providers.fields`): refused in a live
callback, null and kept raw in ``end_call``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

from switchboard.errors import InvalidEvent
from switchboard.events import MAX_URL, CallEvent, CallEventType, Direction
from switchboard.providers.fields import ACCOUNT_MAX, FieldReader, call_event, raw_text

PROVIDER = "voxology"
TYPES = {
    "init_call": CallEventType.CALL_STARTED,
    "live_call": CallEventType.CALL_PROGRESS,
    "end_call": CallEventType.CALL_ENDED,
}
RECORDING = "voxology:recording:"
RECORDING_ID_MAX = MAX_URL - len(RECORDING)
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


def _iso_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _list(body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    value = body.get(field) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidEvent(f"{field} must be a list of objects", field=field)
    return value


def _digits(read: FieldReader, press: dict[str, Any]) -> str | None:
    """The keys of one ``key_presses`` entry; a missing or null ``digits`` is no input (``""``)."""
    digits = press.get("digits")
    return read.digits("key_presses[].digits", "" if digits is None else digits)


def parse_callback(body: Any, *, account: str = "default") -> CallEvent:
    """Normalise one Voxology callback (§3).

    Bounds: numbers, ``status`` and ``session_data.sb_call_id`` at most 64 characters; the last
    ``key_presses`` entry's ``digits`` DTMF keys (at most 128); ``duration`` a number of 0 to
    604,800,000 ms; ``start_time`` ISO-8601; a recording id at most 2,048 characters.

    Raises :class:`InvalidEvent` naming the field when a required field is missing or malformed,
    or a field is out of bounds in ``init_call``/``live_call``. In ``end_call`` (the CDR trigger,
    §7) an out-of-bounds field is null in the event and kept in ``raw_invalid``.
    """
    if not isinstance(body, dict):
        raise InvalidEvent("the callback body must be a JSON object", field="body")
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in TYPES:  # a list or object is unhashable: 400, not 500
        raise InvalidEvent(f"type={kind!r} is not init_call, live_call or end_call", field="type")
    for field in ("call_id", "caller_no", "api_no"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise InvalidEvent(f"required field {field!r} is missing", field=field)
    session_id = FieldReader.identity("call_id", body["call_id"])
    account = FieldReader.identity("account", account, ACCOUNT_MAX)
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
    ended = kind == "end_call"
    read = FieldReader(PROVIDER, final=ended, session=session_id)
    duration_s = read.duration_s("duration", body.get("duration"), per_second=1000)
    status = read.text("status", body.get("status")) or ""
    raw = {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in body.items()}
    raw_session = body.get("session_data")
    session: dict[str, Any] = raw_session if isinstance(raw_session, dict) else {}
    recording_id = None
    if recordings:
        recording_id = read.url("recordings[].id", raw_text(recordings[-1].get("id")), max_length=RECORDING_ID_MAX)
    answered = status.lower() not in ("no-answer", "no_answer", "busy")
    return call_event(
        type=event_type,
        provider=PROVIDER,
        account=account,
        call_key=f"{PROVIDER}:{session_id}",
        session_id=session_id,
        call_id=read.text("session_data.sb_call_id", session.get("sb_call_id") or None),
        direction=Direction(direction),
        caller_number=read.text("caller_no", body["caller_no"]) or "",
        destination_number=read.text("api_no", body["api_no"]) or "",
        digits=_digits(read, presses[-1]) if presses else None,
        recording_url=f"{RECORDING}{recording_id}" if recording_id is not None else None,
        provider_status=status or None,
        hangup_cause=END_CAUSES.get(status.lower(), status.upper() or None) if ended else None,
        duration_s=duration_s if ended else None,
        call_start_time=read.time("start_time", body.get("start_time"), _iso_time, "an ISO-8601 time")
        if answered
        else None,
        expects_reply=not ended,
        raw=raw,
        raw_invalid=read.invalid,
    )


def dedupe_key(raw_body: bytes, body: dict[str, Any]) -> str:
    """``call_id`` + ``type`` + SHA-256 of the body (spec §6 item 4)."""
    digest = hashlib.sha256(raw_body).hexdigest()
    return f"{body.get('call_id')}:{body.get('type')}:{digest[:32]}"
