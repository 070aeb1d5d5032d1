"""Infobip delivery reports and logs as normalised end events (``infobip.md`` §5–8, §10).

A report (pushed to ``notifyUrl`` as ``{"results": [...]}``, or pulled once from
``GET /voice/1/reports``) is the whole outcome of one message: each becomes a ``call.ended``
:class:`~switchboard.events.CallEvent` for ``infobip:<messageId>`` with the keys pressed
(``dtmfCodes``; ``""`` nothing pressed, null never asked), the connected ``duration`` (s), the
cost (``chargedDuration`` × ``pricePerSecond``, §Unknowns), the answer time, and a Q.850 hangup
cause derived from ``status.groupName``/``status.name`` refined by ``error.name`` (§7: never keyed
on ``error.groupId``). PENDING reports are progress. Both report versions are read: v2 keeps the
call in ``voiceCall``, v1 flat with epoch-ms times (§10).

Authenticity (§8): each message goes out with ``callbackData`` =
``<tenant>.<call id>.<signature>``, the signature an HMAC-SHA256 (URL-safe base64, 32 characters)
of ``<tenant>.<call id>.<messageId>`` with the account's API key; a report whose ``callbackData``
does not verify is refused (401). Duplicates are ``messageId`` + ``status.id`` + ``error.id``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from switchboard.errors import AuthenticationFailed, InvalidEvent
from switchboard.events import CallEvent, CallEventType, Direction
from switchboard.providers.fields import FieldReader, call_event

PROVIDER = "infobip"

# status.name of a final report → Q.850 cause (§7); DELIVERED_TO_HANDSET is refined by error.name
STATUS_CAUSES = {
    "DELIVERED_TO_HANDSET": "NORMAL_CLEARING",
    "NO_ANSWER": "NO_ANSWER",
    "BUSY": "USER_BUSY",
    "CANCELLED": "ORIGINATOR_CANCEL",
    "UNDELIVERABLE_REJECTED_OPERATOR": "CALL_REJECTED",
    "UNDELIVERABLE_NOT_DELIVERED": "NORMAL_TEMPORARY_FAILURE",
    "UNDELIVERABLE_NOT_SENT": "NORMAL_TEMPORARY_FAILURE",
    "EXPIRED_EXPIRED": "RECOVERY_ON_TIMER_EXPIRE",
    "EXPIRED_DLR_UNKNOWN": "RECOVERY_ON_TIMER_EXPIRE",
}
GROUP_CAUSES = {
    "DELIVERED": "NORMAL_CLEARING",
    "UNDELIVERABLE": "NORMAL_TEMPORARY_FAILURE",
    "EXPIRED": "RECOVERY_ON_TIMER_EXPIRE",
    "REJECTED": "SERVICE_UNAVAILABLE",
}
# error.name (new 10xxx and old 5xxx codes, §7) → Q.850 cause, where it says more than the status
ERROR_CAUSES = {
    "NO_ANSWER": "NO_ANSWER",
    "EC_VOICE_NO_ANSWER": "NO_ANSWER",
    "BUSY": "USER_BUSY",
    "EC_VOICE_USER_BUSY": "USER_BUSY",
    "CANCELLED": "ORIGINATOR_CANCEL",
    "REJECTED": "CALL_REJECTED",
    "EC_DECLINE": "CALL_REJECTED",
    "TEMPORARILY_UNAVAILABLE": "SUBSCRIBER_ABSENT",
    "EC_VOICE_ERROR_TEMPORARILY_NOT_AVAILABLE": "SUBSCRIBER_ABSENT",
    "DESTINATION_NOT_FOUND": "UNALLOCATED_NUMBER",
    "INSUFFICIENT_FUNDS": "SERVICE_UNAVAILABLE",
    "CONGESTION": "NORMAL_TEMPORARY_FAILURE",
    "SERVICE_UNAVAILABLE": "SERVICE_UNAVAILABLE",
    "REQUEST_TIMEOUT": "RECOVERY_ON_TIMER_EXPIRE",
}
FINAL_GROUPS = frozenset({"DELIVERED", "UNDELIVERABLE", "EXPIRED", "REJECTED"})


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else ``{}`` (a report's optional parts)."""
    return value if isinstance(value, dict) else {}


def sign(api_key: str, tenant_id: str, call_id: str, message_id: str) -> str:
    """The ``callbackData`` a message goes out with (§8): ``<tenant>.<call id>.<signature>``."""
    mac = hmac.new(api_key.encode(), f"{tenant_id}.{call_id}.{message_id}".encode(), hashlib.sha256).digest()
    return f"{tenant_id}.{call_id}.{base64.urlsafe_b64encode(mac).decode()[:32]}"


def verify(api_key: str, callback_data: str, message_id: str) -> tuple[str, str]:
    """``(tenant, call id)`` from a report's ``callbackData``. Raises :class:`AuthenticationFailed`
    when it is missing or its signature does not match."""
    tenant, _, rest = callback_data.partition(".")
    call_id, _, _ = rest.rpartition(".")
    if not (tenant and call_id) or not hmac.compare_digest(sign(api_key, tenant, call_id, message_id), callback_data):
        raise AuthenticationFailed("Infobip report: callbackData does not verify (infobip.md §8)")
    return tenant, call_id


def as_text(value: Any) -> str | None:
    """A report's time as text for :func:`parse_time` (v1 pushes send epoch ms as numbers, §10)."""
    if value is None or value == "":
        return None
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def parse_time(value: str | int | float) -> datetime:
    """ISO-8601 with ``+0000``, ``+00:00``, ``Z`` or no offset (UTC), fractions of any length, or
    epoch ms as a number or numeric string (v1 pushes, §10)."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    text = str(value).strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


MACHINE_ERRORS = frozenset({"MACHINE_DETECTED", "VOICE_ANSWERED_MACHINE"})


def hangup_cause(status: Mapping[str, Any], error: Mapping[str, Any], answered_by: str = "") -> str:
    """The Q.850 cause of a final report: ``MACHINE_DETECTED`` when a machine answered (error
    10002/5001, or ``voiceCall.answeredBy`` MACHINE); else ``error.name`` where it is specific,
    else ``status.name``, else ``status.groupName`` (§7, "Normalisation")."""
    name, group = str(status.get("name") or ""), str(status.get("groupName") or "")
    error_name = str(error.get("name") or "")
    machine = error_name in MACHINE_ERRORS or (group == "DELIVERED" and answered_by.upper() == "MACHINE")
    if machine:  # campaigns retry these as "machine" (switchboard.campaigns.outcomes.MACHINE_CAUSES)
        return "MACHINE_DETECTED"
    if group != "DELIVERED" and error_name in ERROR_CAUSES:
        return ERROR_CAUSES[error_name]
    return STATUS_CAUSES.get(name) or GROUP_CAUSES.get(group) or "UNSPECIFIED"


def report_event(report: Mapping[str, Any], *, account: str, api_key: str | None) -> CallEvent:
    """One report (v1 or v2) as a ``call.ended`` (or ``call.progress`` while PENDING) event.
    Raises :class:`InvalidEvent` naming the field for a report without its ids or of the wrong
    shape, :class:`AuthenticationFailed` when ``api_key`` is given and ``callbackData`` does not
    verify."""
    message_id = FieldReader.identity("messageId", report.get("messageId"))
    call = obj(report.get("voiceCall")) or dict(report)
    status = obj(report.get("status"))
    error = obj(report.get("error"))
    group = str(status.get("groupName") or "")
    final = group in FINAL_GROUPS
    call_id = tenant = None
    if api_key is not None:
        tenant, call_id = verify(api_key, str(report.get("callbackData") or ""), message_id)
    read = FieldReader(PROVIDER, final=True, session=message_id)
    price = obj(report.get("price"))
    seconds = call.get("chargedDuration", call.get("duration"))
    cost = None
    try:
        if price.get("pricePerSecond") is not None and seconds is not None:
            cost = read.cost("price.pricePerSecond", str(Decimal(str(price["pricePerSecond"])) * Decimal(str(seconds))))
    except (InvalidOperation, ValueError):
        read.invalid["price.pricePerSecond"] = str(price.get("pricePerSecond"))
    dtmf = call.get("dtmfCodes")
    answered_by = str(call.get("answeredBy") or "")
    error_name = str(error.get("name") or "")
    raw = {
        "status": str(status.get("name") or ""),
        "statusGroup": group,
        "error": error_name,
        "errorId": str(error.get("id") or ""),
        "answeredBy": "MACHINE" if error_name in MACHINE_ERRORS else answered_by,
        "tenant": tenant or "",
        "mccMnc": str(report.get("mccMnc") or report.get("mccmnc") or ""),
    }
    to = str(report.get("to") or "")
    origin = str(report.get("from") or "")
    return call_event(
        type=CallEventType.CALL_ENDED if final else CallEventType.CALL_PROGRESS,
        provider=PROVIDER,
        account=account,
        call_key=f"{PROVIDER}:{message_id}",
        session_id=message_id,
        call_id=call_id or message_id,  # Switchboard sends its call id as the messageId
        direction=Direction.OUTBOUND,
        caller_number=f"+{to.lstrip('+')}" if to else "",
        destination_number=f"+{origin.lstrip('+')}" if origin else "",
        digits=read.digits("voiceCall.dtmfCodes", dtmf) if dtmf is not None else None,
        provider_status=raw["status"][:64] or None,
        provider_state=group[:64] or None,
        hangup_cause=hangup_cause(status, error, raw["answeredBy"]) if final else None,
        duration_s=read.duration_s("voiceCall.duration", call.get("duration")) if final else None,
        cost=cost,
        currency=read.currency("price.currency", price.get("currency")),
        call_start_time=read.time("voiceCall.answerTime", as_text(call.get("answerTime")), parse_time, "a time"),
        raw={k: v for k, v in raw.items() if v},
        raw_invalid=read.invalid,
    )


def results(body: bytes) -> list[dict[str, Any]]:
    """The reports of a push or pull body ``{"results": [...]}`` (JSON; §5). Raises
    :class:`InvalidEvent` naming ``body`` or ``results``."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"the body is not JSON: {exc}", field="body") from None
    items = data.get("results") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(r, dict) for r in items):
        raise InvalidEvent("'results' must be a non-empty list of reports", field="results")
    return items


def dedupe_key(report: Mapping[str, Any]) -> str:
    """``messageId`` + ``status.id`` + ``error.id`` (§8, platform guard 5)."""
    status = obj(report.get("status"))
    error = obj(report.get("error"))
    return f"{report.get('messageId')}:{status.get('id')}:{error.get('id')}"
