"""Parse and verify Telesign events (``telesign.md`` §4–5).

Body: ``{"event", "reference_id", "external_id"?, "data": {..}}``. Authenticity: HMAC-SHA256 over
the raw body with the base64-decoded API key, base64-encoded, presented in ``X-TS-Authorization``
or ``Authorization`` (``TSA <customer_id>:<signature>`` or bare); any matching header suffices;
compared in constant time.

Mapping: ``incoming_call`` and an answered ``dial_completed`` start the flow; ``speak_completed``
carries ``collected_digits`` (may be empty); ``play_completed`` and ``call_leg_completed`` ask for
the next action; ``call_completed`` ends the call (``duration`` s, ``status``, UTC timestamps with
3 or 6 fractional digits and no zone). A failed ``dial_completed`` needs no answer: its
``call_completed`` follows. Unknown fields are kept in ``raw``. Every field is checked against its
bounds (:mod:`switchboard.providers.fields`): refused in a live event, null and kept raw in
``call_completed``.
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
from switchboard.providers.fields import ACCOUNT_MAX, FieldReader, call_event

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


def _utc_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _plus(number: str | None) -> str:
    text = number or ""
    return text if not text or text.startswith("+") else f"+{text}"


def parse_callback(body: Any, *, account: str = "default") -> CallEvent:
    """Normalise one Telesign event (§4).

    Bounds: ``data.from``/``data.to``/``data.status`` at most 64 characters (a number with its
    ``+``), ``data.collected_digits`` DTMF keys (at most 128), ``data.duration`` a number of 0 to
    604,800 s, ``data.answered_on_utc`` ISO-8601, ``reference_id`` at most 128 characters,
    ``external_id`` at most 64.

    Raises :class:`InvalidEvent` naming the field (``data.<name>`` inside ``data``) when a required
    field is missing or malformed, or a field is out of bounds in any event but ``call_completed``.
    In ``call_completed`` (the CDR trigger, §6) an out-of-bounds field is null in the event and kept
    in ``raw_invalid``.
    """
    if not isinstance(body, dict):
        raise InvalidEvent("the event body must be a JSON object", field="body")
    name = body.get("event")
    if not isinstance(name, str) or not name:
        raise InvalidEvent("required field 'event' is missing", field="event")
    reference = body.get("reference_id")
    if not isinstance(reference, str) or not reference:
        raise InvalidEvent("required field 'reference_id' is missing", field="reference_id")
    reference = FieldReader.identity("reference_id", reference)
    account = FieldReader.identity("account", account, ACCOUNT_MAX)
    data = body.get("data")
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise InvalidEvent("'data' must be an object", field="data")
    read = FieldReader(PROVIDER, final=name == "call_completed", session=reference)
    status = read.text("data.status", data.get("status")) or ""
    kind = CallEventType.CALL_PROGRESS
    digits = None
    if name == "incoming_call" or (name == "dial_completed" and status == "answered"):
        kind = CallEventType.CALL_STARTED
    elif name == "speak_completed" and "collected_digits" in data:
        kind = CallEventType.INPUT_RECEIVED
        collected = data.get("collected_digits")
        digits = read.digits("data.collected_digits", "" if collected is None else collected)
    elif name == "call_leg_completed":
        kind = CallEventType.DIAL_LEG_ENDED
    elif name == "call_completed":
        kind = CallEventType.CALL_ENDED
    duration_s = read.duration_s("data.duration", data.get("duration"))
    inbound = name == "incoming_call" or body.get("external_id") is None
    ended = kind is CallEventType.CALL_ENDED
    to = _plus(read.text("data.to", data.get("to") or None, max_length=63))
    origin = _plus(read.text("data.from", data.get("from") or None, max_length=63))
    return call_event(
        type=kind,
        provider=PROVIDER,
        account=account,
        call_key=f"{PROVIDER}:{reference}",
        session_id=reference,
        call_id=read.text("external_id", body.get("external_id") or None),
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        caller_number=origin if inbound else to,
        destination_number=to if inbound else origin,
        digits=digits,
        provider_status=status or None,
        provider_state=read.text("event", name),
        hangup_cause=(END_CAUSES.get(status, status.upper() or "UNSPECIFIED")) if ended else None,
        duration_s=duration_s if ended else None,
        call_start_time=read.time(
            "data.answered_on_utc", data.get("answered_on_utc") or None, _utc_time, "an ISO-8601 time"
        ),
        expects_reply=name in LIVE or kind is CallEventType.CALL_STARTED,
        raw={k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in body.items()},
        raw_invalid=read.invalid,
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
