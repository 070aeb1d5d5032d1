"""The Telesign adapter (telesign.md §3–5)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import orjson
import pytest

from switchboard.errors import FlowError, InvalidEvent
from switchboard.events import CallEventType, Direction
from switchboard.providers.actions import Dial, Enqueue, GetDigits, Hangup, Play, Redirect, Say
from switchboard.providers.telesign import parse_callback, render_batch, verify_signature

KEY = base64.b64encode(b"telesign-test-key").decode()
REF = "1111AAAA2222BBBB3333CCCC4444DDDD"


def sign(raw: bytes) -> str:
    return base64.b64encode(hmac.new(base64.b64decode(KEY), raw, hashlib.sha256).digest()).decode()


def test_signature_both_header_forms_and_forgery():
    raw = b'{"event":"incoming_call"}'
    sig = sign(raw)
    assert verify_signature(KEY, raw, {"x-ts-authorization": sig})
    assert verify_signature(KEY, raw, {"authorization": f"TSA CUSTOMER:{sig}"})
    assert not verify_signature(KEY, raw + b" ", {"x-ts-authorization": sig})  # the raw body is what is signed
    assert not verify_signature(KEY, raw, {"x-ts-authorization": sig[:-2]})
    assert not verify_signature(KEY, raw, {})


def test_signature_any_presented_form_that_matches_is_enough():
    """telesign.md §5: a correctly signed event is never refused because of the other header."""
    raw = b'{"event":"speak_completed","data":{"collected_digits":"1"}}'
    sig, stale = sign(raw), sign(b"an earlier body")
    # a correct Authorization next to a stale X-TS-Authorization (refused with 401 before)
    assert verify_signature(KEY, raw, {"authorization": f"TSA CUSTOMER:{sig}", "x-ts-authorization": stale})
    # the official SDK's form: the bare signature in Authorization
    assert verify_signature(KEY, raw, {"authorization": sig})
    # Digest credentials in Authorization next to a correct X-TS-Authorization
    assert verify_signature(
        KEY, raw, {"authorization": 'Digest username="sb", response="x"', "x-ts-authorization": sig}
    )
    # neither header matches: refused
    assert not verify_signature(KEY, raw, {"authorization": f"TSA CUSTOMER:{stale}", "x-ts-authorization": stale})
    assert not verify_signature(KEY, raw, {"authorization": "", "x-ts-authorization": ""})


def test_spec_events():
    inc = parse_callback(
        {"event": "incoming_call", "reference_id": REF, "data": {"to": "15550000100", "from": "15550000001"}}
    )
    assert inc.type is CallEventType.CALL_STARTED and inc.direction is Direction.INBOUND and inc.expects_reply
    assert inc.caller_number == "+15550000001" and inc.destination_number == "+15550000100"
    spoke = parse_callback(
        {
            "event": "speak_completed",
            "reference_id": REF,
            "data": {"status": "speak_successful", "collected_digits": "1"},
        }
    )
    assert spoke.type is CallEventType.INPUT_RECEIVED and spoke.digits == "1"
    plain = parse_callback({"event": "speak_completed", "reference_id": REF, "data": {"status": "speak_successful"}})
    assert plain.type is CallEventType.CALL_PROGRESS and plain.expects_reply
    done = parse_callback(
        {
            "event": "call_completed",
            "reference_id": REF,
            "data": {
                "to": "15550000100",
                "from": "15550000001",
                "direction": "inbound",
                "status": "hangup",
                "duration": 64,
                "created_on_utc": "2024-05-06T09:30:00.250",
                "answered_on_utc": "2024-05-06T09:30:01.100000",
                "ended_on_utc": "2024-05-06T09:31:05.400",
                "audio_recording_file_name": None,
                "session_info": {},
            },
        }
    )
    assert done.type is CallEventType.CALL_ENDED and done.duration_s == 64 and done.hangup_cause == "NORMAL_CLEARING"
    assert done.call_start_time == datetime(2024, 5, 6, 9, 30, 1, 100000, tzinfo=UTC) and not done.expects_reply
    out = parse_callback(
        {
            "event": "dial_completed",
            "reference_id": REF,
            "external_id": "call-7",
            "data": {"to": "15550000002", "from": "15550000100", "status": "answered"},
        }
    )
    assert out.type is CallEventType.CALL_STARTED and out.call_id == "call-7" and out.direction is Direction.OUTBOUND
    assert out.caller_number == "+15550000002"
    failed = parse_callback(
        {"event": "dial_completed", "reference_id": REF, "external_id": "c", "data": {"status": "no_answer"}}
    )
    assert failed.type is CallEventType.CALL_PROGRESS and not failed.expects_reply


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reference_id": REF}, "event"),
        ({"event": "x"}, "reference_id"),
        ({"event": "x", "reference_id": REF, "data": []}, "data"),
    ],
)
def test_bad_events_name_the_field(body, field):
    with pytest.raises(InvalidEvent) as info:
        parse_callback(body)
    assert info.value.field == field


def test_one_action_per_reply():
    replies = [
        orjson.loads(b)
        for b in render_batch(
            [
                Say(text="Hello."),
                GetDigits(prompt=Say(text="Press 1."), num_digits=1),
                Redirect(url="https://sb.test/x"),
            ]
        )
    ]
    assert replies == [
        {"jsonrpc": "2.0", "method": "speak", "params": {"tts": {"message": "Hello.", "language": "en-US"}}},
        {
            "jsonrpc": "2.0",
            "method": "speak",
            "params": {"tts": {"message": "Press 1.", "language": "en-US"}, "collect_digits": {"max": 1}},
        },
    ]
    dial, hang = (
        orjson.loads(b) for b in render_batch([Dial(numbers=["+15550000010"]), Hangup()], caller_id="+15550000001")
    )
    assert dial["params"] == {"to": "15550000010", "caller_id_number": "15550000001"} and hang["method"] == "hangup"
    assert orjson.loads(render_batch([Play(url="https://m.test/a.mp3")])[0])["method"] == "play"
    for bad in ([Enqueue(name="q")], [GetDigits(prompt=Play(url="https://m.test/a.mp3"))]):
        with pytest.raises(FlowError):
            render_batch(bad)


def test_identical_mid_call_events_are_not_duplicates():
    from switchboard.providers.telesign import dedupe_key

    spoke = {"event": "speak_completed", "reference_id": REF, "data": {"status": "speak_successful"}}
    raw = orjson.dumps(spoke)
    assert dedupe_key(raw, spoke) != dedupe_key(raw, spoke)
    ended = {"event": "call_completed", "reference_id": REF, "data": {"status": "hangup"}}
    assert dedupe_key(orjson.dumps(ended), ended) == dedupe_key(orjson.dumps(ended), ended)


def test_minimal_events_are_accepted():
    e = parse_callback({"event": "incoming_call", "reference_id": REF})
    assert e.type is CallEventType.CALL_STARTED and e.caller_number == "" and e.expects_reply
    done = parse_callback({"event": "call_completed", "reference_id": REF, "data": {"status": "hangup"}})
    assert done.type is CallEventType.CALL_ENDED and done.duration_s is None and done.call_start_time is None


@pytest.mark.parametrize("duration", ["abc", "NaN", "inf", "1e999"])
def test_an_unreadable_duration_still_ends_the_call(duration):
    """Found by the ingress fuzz test (a 500): the call ends, its duration unknown, the raw kept."""
    body = {"event": "call_completed", "reference_id": "R1", "data": {"status": "completed", "duration": duration}}
    event = parse_callback(body)
    assert event.type is CallEventType.CALL_ENDED and event.duration_s is None
    assert duration in event.raw["data"]
