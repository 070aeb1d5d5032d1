"""Parse Africa's Talking notifications into :class:`~switchboard.events.CallEvent`.

Wire format: ``africastalking.md`` §3 (form-encoded; every value a string). Tolerant as §8 asks:
absent optional fields are fine, ``callStartTime`` may be ``None``/empty or use ``+``, space or
``T`` between date and time, ``direction`` is case-insensitive, unknown fields and enum values
are kept raw in ``CallEvent.raw``. Required fields (§6): ``sessionId``, ``isActive``,
``direction``, ``callerNumber``, ``destinationNumber``; a missing or malformed one raises
:class:`~switchboard.errors.InvalidEvent` naming the field. Every other field is checked against its
bounds (:mod:`switchboard.providers.fields`): refused in a live notification, null and kept raw in
the final one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from switchboard.errors import InvalidEvent
from switchboard.events import CallEvent, CallEventType, Direction
from switchboard.providers.fields import ACCOUNT_MAX, FieldReader, call_event

PROVIDER = "africastalking"
REQUIRED = ("sessionId", "isActive", "direction", "callerNumber", "destinationNumber")
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[+ T](\d{2}:\d{2}:\d{2})")
_TRANSFER_STATES = {"Transferred", "TransferCompleted"}
Source = Literal["callback", "events"]


def _absent(value: str | None) -> bool:
    return value is None or value.strip() in ("", "None")


def _calendar_time(value: str) -> datetime:
    """``2024-05-06+09:30:00`` (or space/``T``) → aware UTC datetime (§8); ``ValueError`` for
    another shape or an impossible date (month 13)."""
    match = _TIME.match(value.strip())
    if not match:
        raise ValueError(value)
    return datetime.fromisoformat(f"{match[1]}T{match[2]}").replace(tzinfo=UTC)


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


def _optional(form: Mapping[str, str], field: str) -> str | None:
    value = form.get(field)
    return None if _absent(value) else value


def parse_callback(form: Mapping[str, str], *, source: Source = "callback", account: str = "default") -> CallEvent:
    """Normalise one AT notification. ``source`` is which URL it came to (callback or events).

    Bounds (§3): numbers and states at most 64 characters, ``dtmfDigits`` DTMF keys (at most
    128), ``durationInSeconds``/``dialDurationInSeconds`` 0 to 604,800 s, ``amount`` a finite
    0 to 9,999,999,999.9999, ``currencyCode`` three letters, ``callStartTime`` a real date.

    Raises :class:`InvalidEvent` with ``field`` set when a required field is missing or malformed,
    or when a field is out of bounds in a live notification. In the final one (``isActive=0``,
    the CDR trigger, §7) an out-of-bounds field is null in the event and kept in ``raw_invalid``.
    """
    for field in REQUIRED:
        if _absent(form.get(field)):
            raise InvalidEvent(f"required field {field!r} is missing", field=field)
    if form["isActive"] not in ("0", "1"):
        raise InvalidEvent(f"isActive={form['isActive']!r} must be '0' or '1'", field="isActive")
    direction = form["direction"].strip().lower()
    if direction not in ("inbound", "outbound"):
        raise InvalidEvent(f"direction={form['direction']!r} is not Inbound/Outbound", field="direction")
    session_id = FieldReader.identity("sessionId", form["sessionId"])
    account = FieldReader.identity("account", account, ACCOUNT_MAX)
    event_type = _event_type(form, source)
    read = FieldReader(PROVIDER, final=event_type is CallEventType.CALL_ENDED, session=session_id)
    return call_event(
        type=event_type,
        provider=PROVIDER,
        account=account,
        call_key=f"{PROVIDER}:{session_id}",
        session_id=session_id,
        call_id=read.text("clientRequestId", _optional(form, "clientRequestId")),
        direction=Direction(direction),
        caller_number=read.text("callerNumber", form["callerNumber"].strip()) or "",
        destination_number=read.text("destinationNumber", form["destinationNumber"].strip()) or "",
        digits=read.digits("dtmfDigits", _optional(form, "dtmfDigits")),
        recording_url=read.url("recordingUrl", form.get("recordingUrl")),
        provider_state=read.text("callSessionState", form.get("callSessionState")),
        provider_status=read.text("status", form.get("status")),
        hangup_cause=read.text("hangupCause", _optional(form, "hangupCause")),
        duration_s=read.duration_s("durationInSeconds", form.get("durationInSeconds")),
        cost=read.cost("amount", form.get("amount")),
        currency=read.currency("currencyCode", form.get("currencyCode")),
        call_start_time=read.time(
            "callStartTime", _optional(form, "callStartTime"), _calendar_time, "YYYY-MM-DD+HH:MM:SS"
        ),
        dial_destination_number=read.text("dialDestinationNumber", form.get("dialDestinationNumber") or None),
        dial_duration_s=read.duration_s("dialDurationInSeconds", form.get("dialDurationInSeconds")),
        expects_reply=source == "callback" and form["isActive"] == "1",
        raw=dict(form),
        raw_invalid=read.invalid,
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
