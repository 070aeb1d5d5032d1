"""Normalise how an AT call ended into Switchboard's :class:`CallStatus` (africastalking.md §5).

``hangupCause`` (14 official values, Q.850/FreeSWITCH names), ``callSessionState`` and ``status``
are open sets; unknown values fall back on the duration: a call that lasted is ``completed``, one
that did not is ``failed``. Returns ``(status, normalised hangup cause)``; the cause is AT's own
value when it has one, else derived from the state.
"""

from __future__ import annotations

from switchboard.events import CallEvent, CallStatus
from switchboard.providers.base import classify_by_duration, classify_q850


def classify_end(event: CallEvent) -> tuple[CallStatus, str | None]:
    if (known := classify_q850(event)) is not None:
        return known
    state = (event.provider_state or "").lower()
    if state == "notanswered" or (event.provider_status or "").lower() == "notanswered":
        return CallStatus.NO_ANSWER, event.hangup_cause or "NO_ANSWER"
    return classify_by_duration(event)
