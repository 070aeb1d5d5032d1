"""Africa's Talking notifications (africastalking.md §3, §8) → CallEvent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest

from switchboard.errors import InvalidEvent
from switchboard.events import CallEventType, Direction
from switchboard.providers.africastalking import dedupe_key, parse_callback
from switchboard.providers.africastalking.outcome import classify_end

# The spec's synthetic wire examples (§3.1), decoded as a form parser would.
START = (
    "isActive=1&sessionId=ATVId_example0001&direction=Inbound&callerNumber=%2B254700000001"
    "&destinationNumber=%2B254700000099&callerCountryCode=254&callStartTime=2024-05-06%2B09%3A30%3A00"
)
DIGITS = START + "&dtmfDigits=4321"
FINAL = (
    "isActive=0&sessionId=ATVId_example0001&direction=Inbound&callerNumber=%2B254700000001&destinationNumber=%2B254700000099&callerCountryCode=254&callStartTime=2024-05-06%2B09%3A30%3A00"
    "&callSessionState=Completed&status=Success&hangupCause=NORMAL_CLEARING&durationInSeconds=48&currencyCode=KES&amount=4.800&callerCarrierName=ExampleNet"
)


def form(wire: str) -> dict[str, str]:
    return dict(parse_qsl(wire, keep_blank_values=True))


def test_call_start():
    e = parse_callback(form(START))
    assert e.type is CallEventType.CALL_STARTED
    assert e.call_key == "africastalking:ATVId_example0001"
    assert e.direction is Direction.INBOUND
    assert e.caller_number == "+254700000001" and e.destination_number == "+254700000099"
    assert e.call_start_time == datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
    assert e.expects_reply is True
    assert e.raw["callerCountryCode"] == "254"


def test_after_get_digits():
    e = parse_callback(form(DIGITS))
    assert e.type is CallEventType.INPUT_RECEIVED and e.digits == "4321"


def test_after_partial_record():
    e = parse_callback({**form(START), "recordingUrl": "https://media.example.test/r1.mp3"})
    assert e.type is CallEventType.RECORDING_RECEIVED
    assert e.recording_url == "https://media.example.test/r1.mp3"


def test_final_notification_every_field():
    e = parse_callback(form(FINAL))
    assert e.type is CallEventType.CALL_ENDED and e.expects_reply is False
    assert e.duration_s == 48 and e.cost == Decimal("4.800") and e.currency == "KES"
    assert e.hangup_cause == "NORMAL_CLEARING"
    assert e.provider_state == "Completed" and e.provider_status == "Success"
    assert e.raw["callerCarrierName"] == "ExampleNet"
    assert classify_end(e)[0].value == "completed"


def test_final_with_dial_and_recording():
    f = {
        **form(FINAL),
        "dialDestinationNumber": "+254700000010",
        "dialDurationInSeconds": "30",
        "dialStartTime": "2024-05-06+09:30:10",
        "recordingUrl": "https://media.example.test/dial.mp3",
    }
    e = parse_callback(f)
    assert e.type is CallEventType.CALL_ENDED
    assert e.dial_destination_number == "+254700000010" and e.dial_duration_s == 30
    assert e.recording_url == "https://media.example.test/dial.mp3"


def test_unanswered_outbound_with_call_start_time_none():
    f = {
        "isActive": "0",
        "sessionId": "ATVId_x",
        "direction": "Outbound",
        "callerNumber": "+254700000002",
        "destinationNumber": "+254700000099",
        "callStartTime": "None",
        "callSessionState": "NotAnswered",
        "durationInSeconds": "0",
        "amount": "0",
        "hangupCause": "NO_ANSWER",
        "currencyCode": "KES",
    }
    e = parse_callback(f)
    assert e.call_start_time is None and e.duration_s == 0
    assert classify_end(e)[0].value == "no-answer"


@pytest.mark.parametrize("value", ["2024-05-06+09:30:00", "2024-05-06 09:30:00", "2024-05-06T09:30:00"])
def test_call_start_time_separators(value):
    assert parse_callback({**form(START), "callStartTime": value}).call_start_time == datetime(
        2024, 5, 6, 9, 30, tzinfo=UTC
    )


def test_absent_optional_fields_are_fine():
    minimal = {k: form(START)[k] for k in ("isActive", "sessionId", "direction", "callerNumber", "destinationNumber")}
    e = parse_callback(minimal)
    assert e.call_start_time is None and e.type is CallEventType.CALL_STARTED


def test_direction_any_case_and_unknown_fields_kept():
    e = parse_callback({**form(START), "direction": "outbound", "lastBridgeHangupCause": "X", "newThing": "y"})
    assert e.direction is Direction.OUTBOUND and e.raw["newThing"] == "y"


def test_events_url_fields_and_client_request_id():
    e = parse_callback({**form(START), "callSessionState": "Ringing", "clientRequestId": "abc"}, source="events")
    assert e.type is CallEventType.CALL_RINGING and e.call_id == "abc" and e.expects_reply is False


def test_transfer_event():
    f = {
        **form(START),
        "callSessionState": "Transferred",
        "callTransferParam": "+254700000003:20",
        "callTransferredToNumber": "+254700000003",
        "callTransferState": "Active",
        "status": "Success",
    }
    assert parse_callback(f, source="events").type is CallEventType.CALL_TRANSFERRED


@pytest.mark.parametrize("field", ["sessionId", "isActive", "direction", "callerNumber", "destinationNumber"])
def test_missing_required_field_is_named(field):
    f = form(START)
    del f[field]
    with pytest.raises(InvalidEvent) as info:
        parse_callback(f)
    assert info.value.field == field and field in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("isActive", "2"),
        ("direction", "Sideways"),
    ],
)
def test_malformed_field_is_named(field, value):
    """Even in the final notification: these decide what the notification is. Other fields'
    bounds (refused live, null and kept raw at the end): test_provider_bounds.py."""
    with pytest.raises(InvalidEvent) as info:
        parse_callback({**form(FINAL), field: value})
    assert info.value.field == field


def test_dedupe_key_tells_steps_apart_but_not_copies():
    a = form(DIGITS)
    assert dedupe_key(a, step="1") == dedupe_key(dict(a), step="1")
    assert dedupe_key(a, step="1") != dedupe_key(a, step="2")
    assert dedupe_key(form(START)) != dedupe_key(form(DIGITS))
    assert dedupe_key(form(FINAL)) == dedupe_key({**form(FINAL), "clientRequestId": "abc"})


@pytest.mark.parametrize(
    ("cause", "status"),
    [
        ("USER_BUSY", "busy"),
        ("NO_ANSWER", "no-answer"),
        ("CALL_REJECTED", "rejected"),
        ("UNALLOCATED_NUMBER", "failed"),
        ("SOMETHING_NEW", "failed"),
    ],
)
def test_end_classification_unanswered(cause, status):
    f = {**form(FINAL), "hangupCause": cause, "callStartTime": "None", "durationInSeconds": "0"}
    assert classify_end(parse_callback(f))[0].value == status
