"""Parse Africa's Talking notifications into :class:`~switchboard.events.CallEvent`.

Wire format: ``africastalking.md`` §3 (form-encoded; every value a string). Tolerant as §8 asks:
absent optional fields are fine, ``callStartTime`` may be ``None``/empty or use ``+``, space or
``T`` between date and time, ``direction`` is case-insensitive, unknown fields and enum values
are kept raw in ``CallEvent.raw``. Required fields (§6): ``sessionId``, ``isActive``,
``direction``, ``callerNumber``, ``destinationNumber``; a missing or malformed one raises
:class:`~switchboard.errors.InvalidEvent` naming the field.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from switchboard.errors import InvalidEvent
from switchboard.events import CallEvent, CallEventType, Direction

PROVIDER = "africastalking"
REQUIRED = ("sessionId", "isActive", "direction", "callerNumber", "destinationNumber")
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[+ T](\d{2}:\d{2}:\d{2})")
_TRANSFER_STATES = {"Transferred", "TransferCompleted"}
Source = Literal["callback", "events"]


def _absent(value: str | None) -> bool:
    return value is None or value.strip() in ("", "None")


def parse_time(value: str | None, *, field: str) -> datetime | None:
    """``2024-05-06+09:30:00`` (or space/``T``) → aware UTC datetime; ``None``/empty → None."""
    if _absent(value):
        return None
    assert value is not None
    match = _TIME.match(value.strip())
    if not match:
        raise InvalidEvent(f"{field}={value!r} is not YYYY-MM-DD+HH:MM:SS", field=field)
    return datetime.fromisoformat(f"{match[1]}T{match[2]}").replace(tzinfo=UTC)


def _int(form: Mapping[str, str], field: str) -> int | None:
    value = form.get(field)
    if _absent(value):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidEvent(f"{field}={value!r} is not an integer", field=field) from None


def _decimal(form: Mapping[str, str], field: str) -> Decimal | None:
    value = form.get(field)
    if _absent(value):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidEvent(f"{field}={value!r} is not a decimal amount", field=field) from None


def _event_type(form: Mapping[str, str], source: Source) -> CallEventType:
    state = form.get("callSessionState") or ""
    if form["isActive"] == "0":
        return CallEventType.CALL_ENDED
    if not _absent(form.get("dtmfDigits")):
        return CallEventType.INPUT_RECEIVED
    if "recordingUrl" in form:
        return CallEventType.RECORDING_RECEIVED
    if state in _TRANSFER_STATES or "callTransferState" in form:
        return CallEventType.CALL_TRANSFERRED
    if state == "Ringing":
        return CallEventType.CALL_RINGING
    return CallEventType.CALL_STARTED if source == "callback" else CallEventType.CALL_PROGRESS


def parse_callback(form: Mapping[str, str], *, source: Source = "callback", account: str = "default") -> CallEvent:
    """Normalise one AT notification. ``source`` is which URL it came to (callback or events).

    Raises :class:`InvalidEvent` with ``field`` set when a required field is missing or a field
    does not have its documented shape.
    """
    for field in REQUIRED:
        if _absent(form.get(field)):
            raise InvalidEvent(f"required field {field!r} is missing", field=field)
    if form["isActive"] not in ("0", "1"):
        raise InvalidEvent(f"isActive={form['isActive']!r} must be '0' or '1'", field="isActive")
    direction = form["direction"].strip().lower()
    if direction not in ("inbound", "outbound"):
        raise InvalidEvent(f"direction={form['direction']!r} is not Inbound/Outbound", field="direction")
    event_type = _event_type(form, source)
    session_id = form["sessionId"].strip()
    recording = form.get("recordingUrl")
    return CallEvent(
        type=event_type,
        provider=PROVIDER,
        account=account,
        call_key=f"{PROVIDER}:{session_id}",
        session_id=session_id,
        call_id=None if _absent(form.get("clientRequestId")) else form["clientRequestId"],
        direction=Direction(direction),
        caller_number=form["callerNumber"].strip(),
        destination_number=form["destinationNumber"].strip(),
        digits=None if _absent(form.get("dtmfDigits")) else form["dtmfDigits"].strip(),
        recording_url=None if recording is None else recording.strip(),
        provider_state=form.get("callSessionState"),
        provider_status=form.get("status"),
        hangup_cause=None if _absent(form.get("hangupCause")) else form["hangupCause"],
        duration_s=_int(form, "durationInSeconds"),
        cost=_decimal(form, "amount"),
        currency=None if _absent(form.get("currencyCode")) else form["currencyCode"],
        call_start_time=parse_time(form.get("callStartTime"), field="callStartTime"),
        dial_destination_number=form.get("dialDestinationNumber") or None,
        dial_duration_s=_int(form, "dialDurationInSeconds"),
        expects_reply=source == "callback" and form["isActive"] == "1",
        raw=dict(form),
    )


def dedupe_key(form: Mapping[str, str], *, step: str | None = None) -> str:
    """The duplicate-callback key of §6 item 5, plus ``step``.

    AT's fields alone cannot tell two answers "1" to two questions of one call apart, so the
    renderer puts a step number in each ``GetDigits``/``Record`` ``callbackUrl`` and the ingress
    passes it here. Returns a short hex digest.
    """
    parts = [
        form.get("sessionId", ""),
        form.get("isActive", ""),
        form.get("callSessionState", ""),
        form.get("dtmfDigits", ""),
        form.get("recordingUrl", ""),
        form.get("callTransferState", ""),
        step or "",
    ]
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
