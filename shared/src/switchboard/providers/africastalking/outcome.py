"""Normalise how an AT call ended into Switchboard's :class:`CallStatus` (africastalking.md §5).

``hangupCause`` (14 official values), ``callSessionState`` and ``status`` are open sets; unknown
values fall back on the duration: a call that lasted is ``completed``, one that did not is
``failed``. Returns ``(status, normalised hangup cause)``; the cause is AT's own value when it has
one (they are Q.850/FreeSWITCH names), else derived from the state.
"""

from __future__ import annotations

from switchboard.events import CallEvent, CallStatus

_BY_CAUSE = {
    "NORMAL_CLEARING": CallStatus.COMPLETED,
    "USER_BUSY": CallStatus.BUSY,
    "NO_ANSWER": CallStatus.NO_ANSWER,
    "NO_USER_RESPONSE": CallStatus.NO_ANSWER,
    "SUBSCRIBER_ABSENT": CallStatus.NO_ANSWER,
    "CALL_REJECTED": CallStatus.REJECTED,
    "ORIGINATOR_CANCEL": CallStatus.CANCELED,
    "LOSE_RACE": CallStatus.CANCELED,
    "UNALLOCATED_NUMBER": CallStatus.FAILED,
    "NORMAL_TEMPORARY_FAILURE": CallStatus.FAILED,
    "RECOVERY_ON_TIMER_EXPIRE": CallStatus.FAILED,
    "SERVICE_UNAVAILABLE": CallStatus.FAILED,
    "USER_NOT_REGISTERED": CallStatus.FAILED,
}


def classify_end(event: CallEvent) -> tuple[CallStatus, str | None]:
    cause = event.hangup_cause
    answered = event.call_start_time is not None and (event.duration_s or 0) > 0
    if cause in _BY_CAUSE:
        status = _BY_CAUSE[cause]
        # A caller who hangs up mid-flow is still a completed call when it was answered.
        if answered and status in (CallStatus.CANCELED, CallStatus.NO_ANSWER):
            status = CallStatus.COMPLETED
        return status, cause
    state = (event.provider_state or "").lower()
    if state == "notanswered" or (event.provider_status or "").lower() == "notanswered":
        return CallStatus.NO_ANSWER, cause or "NO_ANSWER"
    if answered:
        return CallStatus.COMPLETED, cause or "NORMAL_CLEARING"
    return CallStatus.FAILED, cause or "UNSPECIFIED"
