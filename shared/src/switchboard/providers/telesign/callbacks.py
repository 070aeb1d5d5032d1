"""Parse and verify Telesign events (``telesign.md`` §4–5).

Body: ``{"event", "reference_id", "external_id"?, "data": {..}}``. Authenticity: HMAC-SHA256 over
the raw body with the base64-decoded API key, base64-encoded, presented in ``X-TS-Authorization``
or ``Authorization`` (``TSA <customer_id>:<signature>`` or bare); any matching header suffices;
compared in constant time.

Mapping: ``incoming_call`` and an answered ``dial_completed`` start the flow; ``speak_completed``
carries ``collected_digits`` (may be empty); ``play_completed`` and ``call_leg_completed`` ask for
the next action; ``call_completed`` ends the call (``duration`` s, ``status``, UTC timestamps with
3 or 6 fractional digits and no zone). A failed ``dial_completed`` needs no answer: its
``call_completed`` follows. Unknown fields are kept in ``raw``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from switchboard.errors import InvalidEvent
from switchboard.events import CallEvent, CallEventType, Direction

PROVIDER = "telesign"
LIVE = {"incoming_call", "speak_completed", "play_completed", "call_leg_completed"}
END_CAUSES = {
    "hangup": "NORMAL_CLEARING",
    "completed": "NORMAL_CLEARING",
    "answered": "NORMAL_CLEARING",
    "no_answer": "NO_ANSWER",
    "busy": "USER_BUSY",
    "failed": "UNSPECIFIED",
}


def signature(api_key: str, raw_body: bytes) -> str:
    key = base64.b64decode(api_key)
    return base64.b64encode(hmac.new(key, raw_body, hashlib.sha256).digest()).decode()


def verify_signature(api_key: str, raw_body: bytes, headers: Mapping[str, str]) -> bool:
    """True when any presented header carries a valid signature of ``raw_body`` (spec §5).

    ``X-TS-Authorization`` and ``Authorization`` are each read as ``TSA <customer_id>:<sig>``,
    ``<customer_id>:<sig>`` or a bare ``<sig>`` (the official SDK's helper compares a whole header
    with the bare signature). The request is accepted when ANY of them matches, so a stale or
    differently formatted second header (or Digest credentials in ``Authorization``) never refuses a
    correctly signed event. ``headers``: case-insensitive (Starlette's) or lower-case keys."""
    try:
        expected = signature(api_key, raw_body).encode()
    except (binascii.Error, ValueError):
        return False
    for name in ("x-ts-authorization", "authorization"):
        value = headers.get(name) or ""
        presented = value.strip().removeprefix("TSA ").strip().rsplit(":", 1)[-1].encode()
        if presented and len(presented) == len(expected) and hmac.compare_digest(presented, expected):
            return True
    return False


def _time(data: dict[str, Any], field: str) -> datetime | None:
    value = data.get(field)
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidEvent(f"data.{field}={value!r} is not an ISO-8601 time", field=f"data.{field}") from None


def _plus(number: Any) -> str:
    text = str(number or "")
    return text if not text or text.startswith("+") else f"+{text}"


def parse_callback(body: Any, *, account: str = "default") -> CallEvent:
    if not isinstance(body, dict):
        raise InvalidEvent("the event body must be a JSON object", field="body")
    name = body.get("event")
    if not isinstance(name, str) or not name:
        raise InvalidEvent("required field 'event' is missing", field="event")
    reference = body.get("reference_id")
    if not isinstance(reference, str) or not reference:
        raise InvalidEvent("required field 'reference_id' is missing", field="reference_id")
    data = body.get("data")
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise InvalidEvent("'data' must be an object", field="data")
    status = str(data.get("status") or "")
    kind = CallEventType.CALL_PROGRESS
    digits = None
    if name == "incoming_call" or (name == "dial_completed" and status == "answered"):
        kind = CallEventType.CALL_STARTED
    elif name == "speak_completed" and "collected_digits" in data:
        kind, digits = CallEventType.INPUT_RECEIVED, str(data.get("collected_digits") or "")
    elif name == "call_leg_completed":
        kind = CallEventType.DIAL_LEG_ENDED
    elif name == "call_completed":
        kind = CallEventType.CALL_ENDED
    duration = data.get("duration")
    if duration is not None and not isinstance(duration, int | float | str):
        raise InvalidEvent("data.duration must be a number of seconds", field="data.duration")
    inbound = name == "incoming_call" or body.get("external_id") is None
    ended = kind is CallEventType.CALL_ENDED
    return CallEvent(
        type=kind,
        provider=PROVIDER,
        account=account,
        call_key=f"{PROVIDER}:{reference}",
        session_id=reference,
        call_id=str(body["external_id"]) if body.get("external_id") else None,
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        caller_number=_plus(data.get("from")) if inbound else _plus(data.get("to")),
        destination_number=_plus(data.get("to")) if inbound else _plus(data.get("from")),
        digits=digits,
        provider_status=status or None,
        provider_state=name,
        hangup_cause=(END_CAUSES.get(status, status.upper() or "UNSPECIFIED")) if ended else None,
        duration_s=int(float(duration)) if ended and duration not in (None, "") else None,
        call_start_time=_time(data, "answered_on_utc"),
        expects_reply=name in LIVE or kind is CallEventType.CALL_STARTED,
        raw={k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in body.items()},
    )


REPEATABLE = {"speak_completed", "play_completed", "call_leg_completed"}


def dedupe_key(raw_body: bytes, body: dict[str, Any]) -> str:
    """``reference_id`` + ``event`` + SHA-256 of the body (spec §5, platform guard 4), except for
    the mid-call completions: two ``speak_completed`` for two SAYs in a row are byte-identical (the
    events carry no sequence number), so hashing would take the second for a duplicate and replay
    the first reply. Those get a unique key; the spec assumes Telesign does not retry voice events
    (§6), and what is downstream is idempotent anyway (CDR upsert, an ended call is skipped)."""
    event = body.get("event")
    if event in REPEATABLE:
        return f"{body.get('reference_id')}:{event}:{uuid.uuid4().hex}"
    return f"{body.get('reference_id')}:{event}:{hashlib.sha256(raw_body).hexdigest()[:32]}"
