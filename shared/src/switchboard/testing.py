"""Builders and readers for tests, shared by every test suite in the workspace.

Builders make the two objects most tests start from, with defaults that fit together (one
inbound Africa's Talking call, ``africastalking:S1``); keyword arguments override any field:

- :func:`state` → a :class:`~switchboard.state.CallState`;
- :func:`event` → a :class:`~switchboard.events.CallEvent` (``call.started``, or
  ``input.received`` with ``digits``, or ``recording.received`` with ``recording``);
- :func:`session_ended` and :func:`dial_attempt` → the events the cdr-sink turns into CDRs;
- :func:`at_callback` and :func:`at_final` → the form bodies Africa's Talking posts.

Readers answer "what did the caller hear?" wherever it was said:

- :func:`spoken`: from provider actions (``Say``, and a ``GetDigits`` whose prompt is a ``Say``);
- :func:`said_in_reply`: from a rendered reply body, in any provider's dialect (Africa's Talking
  XML, africastalking.md §4; a Voxology call-flow document, voxology.md §4; Telesign JSON-RPC
  actions, telesign.md §3), with :func:`said_in_at_xml`, :func:`said_in_voxology`,
  :func:`said_in_telesign` for one dialect;
- :func:`says` and :func:`heard`: from a provider-simulator call's ``transcript``
  (``GET /sim/calls/{id}``).

A library module with no test-framework imports, so any package's tests can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from xml.etree import ElementTree as ET

import orjson

from switchboard.events import CallEvent, CallEventType, DialAttempt, Direction, SessionEnded
from switchboard.providers.actions import GetDigits, ProviderAction, Say
from switchboard.state import CallState

PROVIDER = "africastalking"
SESSION_ID = "S1"
CALLER = "+254700000001"
OUR_NUMBER = "+254711000200"


def _call(overrides: dict[str, Any]) -> dict[str, Any]:
    """The fields a state and an event of one call share, ``overrides`` applied. The call key and
    session id follow each other: give either (or ``provider``) and the other fits."""
    provider = overrides.get("provider", PROVIDER)
    session_id = overrides.pop("session_id", None)
    call_key = overrides.pop("call_key", None) or f"{provider}:{session_id or SESSION_ID}"
    base = {
        "provider": provider,
        "direction": Direction.INBOUND,
        "caller_number": CALLER,
        "destination_number": OUR_NUMBER,
    }
    return {**base, **overrides, "call_key": call_key, "session_id": session_id or call_key.split(":", 1)[1]}


def state(**overrides: Any) -> CallState:
    """A live call's state: inbound Africa's Talking ``africastalking:S1`` from
    ``+254700000001`` to ``+254711000200``, at the start of its flow; any field overridable."""
    fields = _call(dict(overrides))
    fields.pop("session_id")
    return CallState(**fields)


def event(
    digits: str | None = None,
    *,
    kind: CallEventType | None = None,
    recording: str | None = None,
    **overrides: Any,
) -> CallEvent:
    """A callback of the same call as :func:`state`. ``kind`` defaults to ``input.received`` when
    ``digits`` are given, ``recording.received`` when a ``recording`` URL is, else ``call.started``."""
    if kind is None:
        kind = CallEventType.CALL_STARTED
        if digits is not None:
            kind = CallEventType.INPUT_RECEIVED
        elif recording is not None:
            kind = CallEventType.RECORDING_RECEIVED
    return CallEvent(**{"type": kind, "digits": digits, "recording_url": recording, **_call(dict(overrides))})


def session_ended(**overrides: Any) -> SessionEnded:
    """The example ``SessionEnded`` shipped with the events (a completed 48 s outbound survey
    call, ``africastalking:ATVId_example0002``), ``overrides`` applied."""
    example = orjson.loads(resources.files("switchboard.examples").joinpath("SessionEnded.v1.json").read_bytes())
    return SessionEnded.model_validate({**example, **overrides})


def dial_attempt(**overrides: Any) -> DialAttempt:
    """A dial the provider refused (``InvalidPhoneNumber``) for call ``c-1`` of the survey
    campaign, placed from account ``ke-ops``; ``overrides`` applied (``accepted=True`` with a
    ``call_key`` for one it took)."""
    fields: dict[str, Any] = {
        "request_id": "r-1",
        "call_id": "c-1",
        "provider": PROVIDER,
        "account": "ke-ops",
        "accepted": False,
        "provider_status": "InvalidPhoneNumber",
        "to": "+254700000002",
        "caller_id": "+254711000100",
        "flow": "survey",
        "campaign_id": "survey-2024-05",
        "session_data": {"firstName": "Amina"},
        "requested_at": datetime(2024, 5, 6, 9, 0, tzinfo=UTC),
        "attempted_at": datetime(2024, 5, 6, 9, 0, 1, tzinfo=UTC),
    }
    return DialAttempt(**{**fields, **overrides})


def at_callback(session_id: str, **fields: str) -> dict[str, str]:
    """The form an Africa's Talking callback posts for a live inbound call (africastalking.md §3):
    ``+254700000001`` calling ``+254711000200``; ``fields`` added or replaced (``dtmfDigits``...)."""
    return {
        "isActive": "1",
        "sessionId": session_id,
        "direction": "Inbound",
        "callerNumber": CALLER,
        "destinationNumber": OUR_NUMBER,
        "callerCountryCode": "254",
        "callStartTime": "2024-05-06+09:30:00",
        **fields,
    }


def at_final(session_id: str, **fields: str) -> dict[str, str]:
    """The final notification of the same call (``isActive=0``): completed after 48 s, KES 4.80."""
    return at_callback(
        session_id,
        **{
            "isActive": "0",
            "callSessionState": "Completed",
            "status": "Success",
            "hangupCause": "NORMAL_CLEARING",
            "durationInSeconds": "48",
            "currencyCode": "KES",
            "amount": "4.800",
            "callerCarrierName": "ExampleNet",
            **fields,
        },
    )


# --- what was said -------------------------------------------------------------------------------
def spoken(actions: Iterable[ProviderAction]) -> list[str]:
    """The text of each ``Say``, and of each ``GetDigits`` prompt that is a ``Say``, in order."""
    out = []
    for action in actions:
        if isinstance(action, Say):
            out.append(action.text)
        elif isinstance(action, GetDigits) and isinstance(action.prompt, Say):
            out.append(action.prompt.text)
    return out


def said_in_at_xml(body: bytes | str) -> list[str]:
    """Every ``<Say>`` text of an Africa's Talking XML reply, nested ones (a ``GetDigits``
    prompt) included, in document order."""
    return [el.text or "" for el in ET.fromstring(body).iter("Say")]


def _voxology_says(actions: Sequence[dict[str, Any]]) -> Iterator[str]:
    for action in actions:
        if action.get("type") == "SAY":
            yield str(action.get("params", {}).get("text", ""))
        yield from _voxology_says(action.get("actions") or [])


def said_in_voxology(body: bytes | str) -> list[str]:
    """Every ``SAY`` text of a Voxology call-flow document (``{"actions": [...]}``), including
    those nested in a ``COLLECT``, in order."""
    return list(_voxology_says(orjson.loads(body).get("actions") or []))


def said_in_telesign(bodies: bytes | str | Sequence[bytes | str]) -> list[str]:
    """The ``tts.message`` of each Telesign ``speak`` action (one JSON-RPC action per reply)."""
    items = [bodies] if isinstance(bodies, bytes | str) else bodies
    out = []
    for body in items:
        rpc = orjson.loads(body)
        if rpc.get("method") == "speak":
            out.append(str(rpc["params"]["tts"]["message"]))
    return out


def said_in_reply(body: bytes | str, content_type: str = "") -> list[str]:
    """What a rendered reply says, whichever provider's dialect it is in (told apart by content
    type and shape)."""
    text = body.decode() if isinstance(body, bytes) else body
    if "xml" in content_type or text.lstrip().startswith("<"):
        return said_in_at_xml(text)
    doc = orjson.loads(text)
    if isinstance(doc, dict) and "jsonrpc" in doc:
        return said_in_telesign(text)
    return said_in_voxology(text)


def heard(call: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The entries of a simulator call's ``transcript`` of one ``kind`` (``say``, ``record``,
    ``enqueue``, ``dequeue``, …)."""
    return [t for t in call["transcript"] if t["kind"] == kind]


def says(call: dict[str, Any]) -> list[str]:
    """What a simulated person heard spoken, in order (the ``say`` entries' ``text``)."""
    return [t["text"] for t in heard(call, "say")]
