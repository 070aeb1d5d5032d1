"""Every provider field's bounds, where it is parsed.

A bad field in a live notification is an InvalidEvent naming it (the ingress answers 400); in an
end-of-call notification the event still comes out, with that field null, the raw value kept in
``raw_invalid`` and a warning naming the field, and the other fields intact.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from switchboard.errors import InvalidEvent
from switchboard.events import MAX_COST, MAX_DURATION_S, CallEvent, CallEventType, SessionEnded, encode
from switchboard.providers import africastalking as at
from switchboard.providers import telesign as ts
from switchboard.providers import voxology as vox
from switchboard.providers.fields import RAW_INVALID_MAX, raw_text

AT_START = dict(
    parse_qsl(
        "isActive=1&sessionId=ATVId_b1&direction=Inbound&callerNumber=%2B254700000001"
        "&destinationNumber=%2B254700000099&callerCountryCode=254&callStartTime=2024-05-06%2B09%3A30%3A00"
    )
)
AT_FINAL = {
    **AT_START,
    "isActive": "0",
    "callSessionState": "Completed",
    "status": "Success",
    "hangupCause": "NORMAL_CLEARING",
    "durationInSeconds": "48",
    "currencyCode": "KES",
    "amount": "4.800",
}
HUGE_DIGITS = "1" * 100_000

# (provider field, bad value, CallEvent attribute that reads it)
AT_CASES = [
    ("hangupCause", "X" * 100, "hangup_cause"),
    ("hangupCause", "NORMAL\x00CLEARING", "hangup_cause"),
    ("currencyCode", "KESKESKESKES", "currency"),
    ("currencyCode", "K1S", "currency"),
    ("amount", "1e20", "cost"),
    ("amount", "NaN", "cost"),
    ("amount", "Infinity", "cost"),
    ("amount", "-1", "cost"),
    ("amount", "1,5", "cost"),
    ("durationInSeconds", str(2**40), "duration_s"),
    ("durationInSeconds", "-5", "duration_s"),
    ("durationInSeconds", "ten", "duration_s"),
    ("durationInSeconds", "NaN", "duration_s"),
    ("dialDurationInSeconds", str(MAX_DURATION_S + 1), "dial_duration_s"),
    ("dtmfDigits", HUGE_DIGITS, "digits"),
    ("dtmfDigits", "12x4", "digits"),
    ("callStartTime", "2024-13-06+09:30:00", "call_start_time"),
    ("callStartTime", "2024-05-06+25:30:00", "call_start_time"),
    ("callStartTime", "yesterday", "call_start_time"),
    ("callStartTime", "1900-01-01+00:00:00", "call_start_time"),
    ("callerNumber", "+2" * 40, "caller_number"),
    ("destinationNumber", "9" * 65, "destination_number"),
    ("status", "S" * 65, "provider_status"),
    ("callSessionState", "C" * 65, "provider_state"),
    ("recordingUrl", "https://media.example.test/" + "a" * 3000, "recording_url"),
    ("clientRequestId", "c" * 65, "call_id"),
    ("dialDestinationNumber", "+" + "7" * 70, "dial_destination_number"),
]


def kept(value: Any) -> str:
    text = raw_text(value)
    return text if len(text) <= RAW_INVALID_MAX else f"{text[:RAW_INVALID_MAX]}…({len(text)} chars)"


def nulled(event: CallEvent, attr: str) -> bool:
    value = getattr(event, attr)
    return value == "" if attr in ("caller_number", "destination_number") else value is None


def check_final(parse: Any, body: Any, field: str, value: Any, attr: str) -> CallEvent:
    with capture_logs() as logs:
        event = parse(body)
    assert event.type is CallEventType.CALL_ENDED
    assert nulled(event, attr)
    assert event.raw_invalid == {field: kept(value)}
    assert [log["field"] for log in logs if log["log_level"] == "warning"] == [field]
    # the event is a valid CallEvent that survives the topic (JSON round trip)
    assert CallEvent.model_validate_json(encode(event)) == event
    return event


@pytest.mark.parametrize(("field", "value", "attr"), AT_CASES)
def test_at_live_notification_refuses_the_field(field, value, attr):
    with pytest.raises(InvalidEvent) as info:
        at.parse_callback({**AT_START, field: value})
    assert info.value.field == field and field in str(info.value)


@pytest.mark.parametrize(("field", "value", "attr"), AT_CASES)
def test_at_final_notification_keeps_the_call_and_the_raw_value(field, value, attr):
    event = check_final(at.parse_callback, {**AT_FINAL, field: value}, field, value, attr)
    if attr != "duration_s":
        assert event.duration_s == 48
    if attr != "cost":
        assert event.cost == Decimal("4.800")
    if attr != "hangup_cause":
        assert event.hangup_cause == "NORMAL_CLEARING"


def test_at_final_notification_with_cause_currency_amount_and_duration_all_out_of_bounds():
    event = at.parse_callback(
        {
            **AT_FINAL,
            "hangupCause": "X" * 100,
            "currencyCode": "KESKESKESKES",
            "amount": "1e20",
            "durationInSeconds": str(2**40),
        }
    )
    assert (event.hangup_cause, event.currency, event.cost, event.duration_s) == (None, None, None, None)
    assert set(event.raw_invalid) == {"hangupCause", "currencyCode", "amount", "durationInSeconds"}
    assert event.raw_invalid["amount"] == "1e20"


def test_at_bounds_at_the_edge_are_accepted():
    event = at.parse_callback(
        {
            **AT_FINAL,
            "durationInSeconds": str(MAX_DURATION_S),
            "amount": str(MAX_COST),
            "currencyCode": "kes",
            "hangupCause": "H" * 64,
            "callStartTime": "2999-12-31+23:59:59",
        }
    )
    assert event.duration_s == MAX_DURATION_S and event.cost == MAX_COST and event.currency == "KES"
    assert event.call_start_time == datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC) and not event.raw_invalid
    live = at.parse_callback({**AT_START, "dtmfDigits": "0123456789*#" * 10})
    assert live.digits == "0123456789*#" * 10


@pytest.mark.parametrize("final", [False, True])
@pytest.mark.parametrize(("field", "value"), [("sessionId", "S" * 129), ("sessionId", "ATVId\x00x")])
def test_at_identity_is_refused_even_at_the_end(final, field, value):
    with pytest.raises(InvalidEvent) as info:
        at.parse_callback({**(AT_FINAL if final else AT_START), field: value})
    assert info.value.field == field


def test_account_is_bounded():
    with pytest.raises(InvalidEvent) as info:
        at.parse_callback(AT_FINAL, account="a" * 65)
    assert info.value.field == "account"


VOX_LIVE: dict[str, Any] = {
    "type": "live_call",
    "call_id": "call-b1",
    "start_time": "2024-05-06T09:30:00.000Z",
    "direction": "inbound",
    "duration": 15250,
    "status": "live-in-progress",
    "caller_no": "+15550000001",
    "api_no": "+15550000100",
    "key_presses": [{"name": "menu", "digits": "2"}],
    "recordings": [],
    "session_data": {"sb_call_id": "c-1"},
}
VOX_FINAL = {**VOX_LIVE, "type": "end_call", "status": "completed", "duration": 48_000}

# (body key, bad value, field named, CallEvent attribute, the raw value kept)
VOX_CASES = [
    ("duration", 2**60, "duration", "duration_s", 2**60),
    ("duration", -1, "duration", "duration_s", -1),
    ("duration", "long", "duration", "duration_s", "long"),
    ("duration", True, "duration", "duration_s", True),
    ("status", "s" * 100, "status", "provider_status", "s" * 100),
    ("start_time", "2024-13-06T09:30:00.000Z", "start_time", "call_start_time", "2024-13-06T09:30:00.000Z"),
    ("start_time", 12345, "start_time", "call_start_time", 12345),
    ("caller_no", "+1" * 40, "caller_no", "caller_number", "+1" * 40),
    ("api_no", "+1555\x00", "api_no", "destination_number", "+1555\x00"),
    ("key_presses", [{"name": "m", "digits": HUGE_DIGITS}], "key_presses[].digits", "digits", HUGE_DIGITS),
    ("key_presses", [{"name": "m", "digits": ["1"]}], "key_presses[].digits", "digits", ["1"]),
    ("session_data", {"sb_call_id": "x" * 65}, "session_data.sb_call_id", "call_id", "x" * 65),
    ("recordings", [{"name": "vm", "id": "r" * 3000}], "recordings[].id", "recording_url", "r" * 3000),
]


@pytest.mark.parametrize(("key", "value", "field", "attr", "raw"), VOX_CASES)
def test_voxology_live_callback_refuses_the_field(key, value, field, attr, raw):
    with pytest.raises(InvalidEvent) as info:
        vox.parse_callback({**VOX_LIVE, key: value})
    assert info.value.field == field


@pytest.mark.parametrize(("key", "value", "field", "attr", "raw"), VOX_CASES)
def test_voxology_end_call_keeps_the_call_and_the_raw_value(key, value, field, attr, raw):
    event = check_final(vox.parse_callback, {**VOX_FINAL, key: value}, field, raw, attr)
    if attr != "duration_s":
        assert event.duration_s == 48
    if attr != "provider_status":
        assert event.hangup_cause == "NORMAL_CLEARING"


def test_voxology_end_call_with_status_too_long_has_no_cause():
    event = vox.parse_callback({**VOX_FINAL, "status": "s" * 100})
    assert event.hangup_cause is None and event.provider_status is None


TS_REF = "1111AAAA2222BBBB3333CCCC4444DDDD"
TS_LIVE: dict[str, Any] = {
    "event": "speak_completed",
    "reference_id": TS_REF,
    "data": {"status": "speak_successful", "collected_digits": "1"},
}
TS_FINAL: dict[str, Any] = {
    "event": "call_completed",
    "reference_id": TS_REF,
    "data": {
        "to": "15550000100",
        "from": "15550000001",
        "status": "hangup",
        "duration": 64,
        "answered_on_utc": "2024-05-06T09:30:01.100",
    },
}

# (path in the body, bad value, CallEvent attribute)
TS_CASES = [
    ("data.duration", 2**40, "duration_s"),
    ("data.duration", -3, "duration_s"),
    ("data.duration", "NaN", "duration_s"),
    ("data.duration", "Infinity", "duration_s"),
    ("data.duration", "abc", "duration_s"),
    ("data.duration", {"s": 1}, "duration_s"),
    ("data.answered_on_utc", "2024-13-01T00:00:00.000", "call_start_time"),
    ("data.answered_on_utc", "0001-01-01T00:00:00", "call_start_time"),
    ("data.status", "s" * 100, "provider_status"),
    ("data.from", "1" * 100, "caller_number"),
    ("data.to", "1" * 64, "destination_number"),
    ("external_id", "e" * 65, "call_id"),
]


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    *parents, leaf = path.split(".")
    target = body
    for part in parents:
        target = target[part]
    target[leaf] = value
    return body


@pytest.mark.parametrize(("path", "value", "attr"), TS_CASES)
def test_telesign_live_event_refuses_the_field(path, value, attr):
    body = TS_LIVE if path != "data.to" else with_value(TS_LIVE, "external_id", None)
    with pytest.raises(InvalidEvent) as info:
        ts.parse_callback(with_value(body, path, value))
    assert info.value.field == path


@pytest.mark.parametrize(("path", "value", "attr"), TS_CASES)
def test_telesign_call_completed_keeps_the_call_and_the_raw_value(path, value, attr):
    event = check_final(ts.parse_callback, with_value(TS_FINAL, path, value), path, value, attr)
    if attr != "duration_s":
        assert event.duration_s == 64
    if attr != "provider_status":
        assert event.hangup_cause == "NORMAL_CLEARING"


@pytest.mark.parametrize("digits", [HUGE_DIGITS, "1x", 12.5])
def test_telesign_collected_digits_are_bounded(digits):
    with pytest.raises(InvalidEvent) as info:
        ts.parse_callback(with_value(TS_LIVE, "data.collected_digits", digits))
    assert info.value.field == "data.collected_digits"


def test_telesign_reference_id_is_refused_even_at_the_end():
    with pytest.raises(InvalidEvent) as info:
        ts.parse_callback({**TS_FINAL, "reference_id": "R" * 129})
    assert info.value.field == "reference_id"


SESSION_ENDED = {
    "call_key": "africastalking:ATVId_b1",
    "provider": "africastalking",
    "direction": "inbound",
    "caller_number": "+254700000001",
    "destination_number": "+254700000099",
    "status": "completed",
    "ended_at": "2024-05-06T09:31:00Z",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hangup_cause", "X" * 100),
        ("hangup_cause_raw", "X" * 65),
        ("currency", "KESKESKESKES"),
        ("cost", "1e20"),
        ("cost", "NaN"),
        ("duration_s", 2**40),
        ("attempt", 2**31),
        ("call_key", "k" * 201),
        ("call_id", "c" * 65),
        ("caller_number", "+1\x00"),
        ("campaign_id", "c" * 129),
        ("started_at", "0001-01-01T00:00:00+14:00"),
        ("ended_at", "9999-12-31T23:59:59-14:00"),
    ],
)
def test_session_ended_refuses_what_the_cdr_table_refuses(field, value):
    with pytest.raises(ValidationError) as info:
        SessionEnded.model_validate({**SESSION_ENDED, field: value})
    assert info.value.errors()[0]["loc"][0] == field


def test_session_ended_keeps_free_form_data_without_nul():
    ended = SessionEnded.model_validate(
        {
            **SESSION_ENDED,
            "session_data": {"na\x00me": ["a\x00b", {"c": "\x00"}], "n": 1},
            "inputs": {"menu": "1\x00"},
            "flow_error": "boom\x00",
            "raw_invalid": {"hangupCause": "X\x00"},
        }
    )
    assert ended.session_data == {"na\ufffdme": ["a\ufffdb", {"c": "\ufffd"}], "n": 1}
    assert ended.inputs == {"menu": "1\ufffd"} and ended.flow_error == "boom\ufffd"
    assert ended.raw_invalid == {"hangupCause": "X\ufffd"}
