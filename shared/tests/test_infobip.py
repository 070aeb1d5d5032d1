"""Infobip (issue 15): the compiler (each action, each refusal), delivery reports of every status
group, callbackData verification, duplicates between a pushed and a pulled report."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from switchboard.campaigns.outcomes import outcome_of
from switchboard.errors import AuthenticationFailed, FlowError, InvalidEvent
from switchboard.events import CallEventType, CallStatus, Direction
from switchboard.flow.document import build_flow, load_flow
from switchboard.flow.validate import validate
from switchboard.providers import PROVIDERS
from switchboard.providers.base import Account, CallbackRequest
from switchboard.providers.infobip.provider import compile_call
from switchboard.providers.infobip.reports import dedupe_key, parse_time, report_event, sign
from switchboard.testing import state

FLOWS = Path(__file__).resolve().parents[2] / "flows"
KEY = "test-infobip-key"


def outbound(**session_data: str):  # type: ignore[no-untyped-def]
    return state(direction=Direction.OUTBOUND, caller_number="+254700000001", session_data=dict(session_data))


def compiled(actions: list[dict], **session_data: str) -> dict:
    return compile_call(build_flow({"actions": actions}, name="t", provider="infobip"), outbound(**session_data))


def problems(actions: list[dict]) -> list[tuple[str, str]]:
    flow = build_flow({"actions": actions}, name="t", check=False)
    return [(p.pointer, p.message) for p in validate(flow, provider="infobip") if p.severity == "error"]


# --- the compiler: each action -------------------------------------------------------------------


def test_say_and_templates_become_the_text():
    fields = compiled(
        [
            {"type": "SAY", "params": {"text": "Hello ${sessionData.name}."}},
            {"type": "SAY", "params": {"text": "Bye."}},
        ],
        name="Amina",
    )
    assert fields == {"text": "Hello Amina. Bye."}


def test_pause_is_commas_of_half_a_second():
    fields = compiled(
        [
            {"type": "SAY", "params": {"text": "One"}},
            {"type": "PAUSE", "params": {"length": 2}},
            {"type": "SAY", "params": {"text": "two"}},
        ]
    )
    assert fields["text"] == "One ,,,, two"


def test_play_alone_is_the_audio_file():
    assert compiled([{"type": "PLAY", "params": {"url": "https://cdn.example.test/a.mp3"}}]) == {
        "audioFileUrl": "https://cdn.example.test/a.mp3"
    }


def test_detect_is_machine_detection():
    fields = compiled(
        [{"type": "DETECT", "params": {"on_machine": "hangup"}}, {"type": "SAY", "params": {"text": "Hi"}}]
    )
    assert fields["machineDetection"] == "hangup"


def test_collect_is_dtmf_collection_and_transfers_on_a_key():
    fields = compiled(
        [
            {
                "type": "COLLECT",
                "name": "choice",
                "params": {"num_digits": 2, "timeout": 4500, "finish_on_key": "#"},
                "actions": [{"type": "SAY", "params": {"text": "Press 0 for an agent."}}],
            },
            {
                "type": "IF",
                "condition": "$keyPresses == '0'",
                "then": [{"type": "TRANSFER", "params": {"no": "+254711000999"}}],
            },
            {"type": "HANGUP"},
        ]
    )
    assert fields == {
        "text": "Press 0 for an agent.",
        "maxDtmf": 2,
        "dtmfTimeout": 5,
        "callTransfers": [{"if": "dtmf", "equals": "0", "transferTo": "254711000999"}],
    }


def test_server_side_actions_before_the_message_run_with_the_calls_data():
    fields = compiled(
        [
            {"type": "SET", "params": {"greeting": "$sessionData.lang == 'sw' ? 'Habari' : 'Hello'"}},
            {
                "type": "IF",
                "condition": "$sessionData.vip == 'yes'",
                "then": [{"type": "SAY", "params": {"text": "${greeting}, valued customer."}}],
                "orElse": [{"type": "SAY", "params": {"text": "${greeting}."}}],
            },
        ],
        lang="sw",
        vip="yes",
    )
    assert fields == {"text": "Habari, valued customer."}


@pytest.mark.parametrize("name", ["blast.yaml", "otp-message.yaml", "survey-message.yaml"])
def test_the_message_flows_compile(name):
    flow = load_flow(FLOWS / name, provider="infobip")
    fields = compile_call(flow, outbound(code="4721", company="Acme", notice="Water is off on Friday."))
    assert fields["text"]
    if name == "otp-message.yaml":
        assert "4, 7, 2, 1" in fields["text"] and fields["repeatDtmf"] == "1"


def test_going_back_to_the_top_on_a_key_is_repeat_dtmf():
    fields = compile_call(load_flow(FLOWS / "otp-message.yaml", provider="infobip"), outbound(code="4721"))
    assert fields == {
        "text": "Your Switchboard code is 4, 7, 2, 1. Again: 4, 7, 2, 1. To hear the code again, press 1.",
        "maxDtmf": 1,
        "dtmfTimeout": 5,
        "repeatDtmf": "1",
    }


def test_going_back_to_after_something_was_heard_is_a_loop():
    found = problems(
        [
            {"type": "SAY", "params": {"text": "Welcome."}},
            {"type": "LABEL", "name": "read"},
            {"type": "SAY", "params": {"text": "Code."}},
            {"type": "COLLECT", "params": {"num_digits": 1}},
            {"type": "IF", "condition": "$keyPresses == '1'", "then": [{"type": "GOTO", "params": {"label": "read"}}]},
        ]
    )
    assert any(p == "/actions/4/then/0/type" and "loops need a live call" in m for p, m in found), found


# --- the compiler: each refusal ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actions", "pointer", "fragment"),
    [
        (
            [
                {"type": "LABEL", "name": "a"},
                {"type": "SAY", "params": {"text": "x"}},
                {"type": "GOTO", "params": {"label": "a"}},
            ],
            "/actions/2/type",
            "loops need a live call",
        ),
        ([{"type": "WEBHOOK", "params": {"url": "https://app.example.test/x"}}], "/actions/0/type", "WEBHOOK"),
        ([{"type": "REDIRECT", "params": {"url": "https://app.example.test/x"}}], "/actions/0/type", "REDIRECT"),
        ([{"type": "DIAL", "params": {"no": "+254711000999"}}], "/actions/0/type", "only on a key press"),
        ([{"type": "QUEUE", "params": {"name": "q"}}], "/actions/0/type", "queues need a live call"),
        ([{"type": "DEQUEUE", "params": {"phone_number": "+254711000100"}}], "/actions/0/type", "queues"),
        ([{"type": "CONFERENCE", "params": {"name": "room"}}], "/actions/0/type", "conferences"),
        ([{"type": "RECORD", "params": {}}], "/actions/0/type", "do not record"),
        ([{"type": "REJECT"}], "/actions/0/type", "no incoming call"),
        ([{"type": "TRANSFER", "params": {"no": "+254711000999"}}], "/actions/0/type", "only on a key press"),
        (
            [{"type": "COLLECT", "params": {"num_digits": 1}}, {"type": "SAY", "params": {"text": "Thanks"}}],
            "/actions/1",
            "after its COLLECT",
        ),
        (
            [
                {"type": "COLLECT", "params": {"num_digits": 1}},
                {"type": "IF", "condition": "$keyPresses == 1", "then": [{"type": "SAY", "params": {"text": "One"}}]},
            ],
            "/actions/1",
            "after its COLLECT",
        ),
        (
            [{"type": "COLLECT", "params": {"num_digits": 1}}, {"type": "COLLECT", "params": {"num_digits": 1}}],
            "/actions/1",
            "a second COLLECT",
        ),
        (
            [{"type": "IF", "condition": "1", "then": [{"type": "COLLECT", "params": {"num_digits": 1}}]}],
            "/actions/0/then/0",
            "a COLLECT inside then",
        ),
        (
            [{"type": "COLLECT", "params": {"num_digits": 1, "finish_on_key": "*"}}],
            "/actions/0/params/finish_on_key",
            "with # only",
        ),
        (
            [{"type": "PLAY", "params": {"url": "https://x.test/a.mp3"}}, {"type": "SAY", "params": {"text": "x"}}],
            "/actions/0",
            "not both",
        ),
        (
            [
                {"type": "PLAY", "params": {"url": "https://x.test/a.mp3"}},
                {"type": "PLAY", "params": {"url": "https://x.test/b.mp3"}},
            ],
            "/actions/1",
            "one audio file",
        ),
    ],
)
def test_what_one_message_cannot_carry_is_refused_with_the_pointer(actions, pointer, fragment):
    found = problems(actions)
    assert any(p == pointer and fragment in m for p, m in found), found
    with pytest.raises(FlowError):
        compile_call(build_flow({"actions": actions}, name="t", check=False), outbound())


@pytest.mark.parametrize("name", ["survey.yaml", "otp.yaml", "ivr.yaml", "agent-queue.yaml"])
def test_flows_that_need_a_live_call_are_refused_on_infobip_only(name):
    flow = build_flow(__import__("yaml").safe_load((FLOWS / name).read_text()), name=name, check=False)
    assert [p for p in validate(flow, provider="infobip") if p.severity == "error"]
    assert not [p for p in validate(flow, provider="africastalking") if p.severity == "error"]


# --- delivery reports ----------------------------------------------------------------------------


def report(status: dict, error: dict, *, dtmf: str | None = "", duration: int = 24, answered: bool = True) -> dict:
    return {
        "bulkId": "bulk-1",
        "messageId": "call-1",
        "from": "15550000700",
        "to": "254700000001",
        "sentAt": "2026-12-05T09:30:00.120+0000",
        "callbackData": sign(KEY, "acme", "call-1", "call-1"),
        "voiceCall": {
            "startTime": "2026-12-05T09:30:01.000+0000",
            "answerTime": "2026-12-05T09:30:07.000+0000" if answered else None,
            "endTime": "2026-12-05T09:30:31.000+0000",
            "duration": duration,
            "chargedDuration": 30 if answered else 0,
            "dtmfCodes": dtmf,
        },
        "price": {"pricePerSecond": 0.02, "currency": "EUR"},
        "status": status,
        "error": error,
    }


DELIVERED = {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET"}
OK = {"groupId": 0, "groupName": "OK", "id": 10000, "name": "NORMAL_HANGUP"}


@pytest.mark.parametrize(
    ("status", "error", "answered", "expected"),
    [
        (DELIVERED, OK, True, (CallStatus.COMPLETED, "NORMAL_CLEARING")),
        (DELIVERED, {"id": 10002, "name": "MACHINE_DETECTED"}, True, (CallStatus.COMPLETED, "MACHINE_DETECTED")),
        (DELIVERED, {"id": 5001, "name": "VOICE_ANSWERED_MACHINE"}, True, (CallStatus.COMPLETED, "MACHINE_DETECTED")),
        (
            {"groupId": 2, "groupName": "UNDELIVERABLE", "id": 96, "name": "NO_ANSWER"},
            {"id": 10200, "name": "NO_ANSWER"},
            False,
            (CallStatus.NO_ANSWER, "NO_ANSWER"),
        ),
        (
            {"groupId": 2, "groupName": "UNDELIVERABLE", "id": 97, "name": "BUSY"},
            {"id": 5002, "name": "EC_VOICE_USER_BUSY"},
            False,
            (CallStatus.BUSY, "USER_BUSY"),
        ),
        (
            {"groupId": 2, "groupName": "UNDELIVERABLE", "id": 98, "name": "CANCELLED"},
            {"id": 10202, "name": "CANCELLED"},
            False,
            (CallStatus.CANCELED, "ORIGINATOR_CANCEL"),
        ),
        (
            {"groupId": 2, "groupName": "UNDELIVERABLE", "id": 9, "name": "UNDELIVERABLE_NOT_DELIVERED"},
            {"id": 10303, "name": "DESTINATION_NOT_FOUND"},
            False,
            (CallStatus.FAILED, "UNALLOCATED_NUMBER"),
        ),
        (
            {"groupId": 4, "groupName": "EXPIRED", "id": 15, "name": "EXPIRED_EXPIRED"},
            {"id": 0, "name": "NO_ERROR"},
            False,
            (CallStatus.FAILED, "RECOVERY_ON_TIMER_EXPIRE"),
        ),
        (
            {"groupId": 5, "groupName": "REJECTED", "id": 53, "name": "REJECTED_INVALID_AUDIO_FILE_URL"},
            {"id": 0, "name": "NO_ERROR"},
            False,
            (CallStatus.FAILED, "SERVICE_UNAVAILABLE"),
        ),
    ],
)
def test_every_status_group_classifies(status, error, answered, expected):
    event = report_event(
        report(status, error, answered=answered, duration=24 if answered else 0), account="default", api_key=KEY
    )
    assert event.type is CallEventType.CALL_ENDED and event.call_key == "infobip:call-1" and event.call_id == "call-1"
    assert PROVIDERS["infobip"].classify_end(event) == expected
    if answered:
        assert event.duration_s == 24 and str(event.cost) == "0.60" and event.currency == "EUR"
    if "MACHINE" in str(error.get("name")):
        assert event.raw["answeredBy"] == "MACHINE"
        assert outcome_of(str(PROVIDERS["infobip"].classify_end(event)[0]), event.hangup_cause) == "machine"


def test_a_pending_report_is_progress_not_the_end():
    pending = {"groupId": 1, "groupName": "PENDING", "id": 26, "name": "PENDING_ACCEPTED"}
    event = report_event(report(pending, {}), account="default", api_key=KEY)
    assert event.type is CallEventType.CALL_PROGRESS and event.hangup_cause is None


def test_a_v1_report_with_epoch_ms_times_reads_its_answer_time():
    v1 = {k: v for k, v in report(DELIVERED, OK).items() if k != "voiceCall"}
    v1.update({"answerTime": 1796463007000, "duration": 24, "dtmfCodes": "3"})  # flat, epoch ms (§5, §10)
    event = report_event(v1, account="default", api_key=KEY)
    assert event.call_start_time is not None and event.call_start_time.isoformat() == "2026-12-05T09:30:07+00:00"
    assert event.digits == "3" and event.duration_s == 24 and not event.raw_invalid


def test_keys_pressed_and_never_asked_stay_distinct():
    pressed = report_event(report(DELIVERED, OK, dtmf="4"), account="default", api_key=KEY)
    nothing = report_event(report(DELIVERED, OK, dtmf=""), account="default", api_key=KEY)
    never = report_event(report(DELIVERED, OK, dtmf=None), account="default", api_key=KEY)
    assert (pressed.digits, nothing.digits, never.digits) == ("4", "", None)


def test_a_forged_or_missing_callback_data_is_refused():
    forged = report(DELIVERED, OK)
    forged["callbackData"] = "acme.call-1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    with pytest.raises(AuthenticationFailed):
        report_event(forged, account="default", api_key=KEY)
    other_call = report(DELIVERED, OK)
    other_call["messageId"] = "call-2"  # a signature for call-1 does not vouch for call-2
    with pytest.raises(AuthenticationFailed):
        report_event(other_call, account="default", api_key=KEY)
    missing = report(DELIVERED, OK)
    del missing["callbackData"]
    with pytest.raises(AuthenticationFailed):
        report_event(missing, account="default", api_key=KEY)


def test_a_report_without_its_message_id_is_a_400_naming_the_field():
    bad = report(DELIVERED, OK)
    del bad["messageId"]
    with pytest.raises(InvalidEvent) as info:
        report_event(bad, account="default", api_key=KEY)
    assert info.value.field == "messageId"


def test_a_pushed_batch_is_one_event_per_report_and_a_pulled_copy_is_the_same_duplicate():
    account = Account(provider="infobip", base_url="http://x", api_key=KEY, from_number="+15550000700")
    second = {
        **report(DELIVERED, OK, dtmf="2"),
        "messageId": "call-2",
        "callbackData": sign(KEY, "acme", "call-2", "call-2"),
    }
    body = orjson.dumps({"results": [report(DELIVERED, OK, dtmf="4"), second]})
    request = CallbackRequest(
        source="events", content_type="application/json", body=body, headers={}, query={}, account=account
    )
    parsed = PROVIDERS["infobip"].parse(request)
    events = [parsed.event, *(p.event for p in parsed.more)]
    assert [e.call_key for e in events] == ["infobip:call-1", "infobip:call-2"] and [e.digits for e in events] == [
        "4",
        "2",
    ]
    pulled = report(DELIVERED, OK, dtmf="4")  # the same report, pulled (§5) instead of pushed
    assert dedupe_key(pulled) == parsed.dedupe_key
    assert dedupe_key(report({**DELIVERED, "id": 2}, OK)) != parsed.dedupe_key  # another status is another event


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-05T09:30:00.000+0000",
        "2026-12-05T09:30:00.000000+0000",
        "2026-12-05T09:30:00Z",
        "2026-12-05T09:30:00+00:00",
        "2026-12-05T09:30:00",
        1796463000000,
        "1796463000000",
    ],
)
def test_report_times_in_every_documented_form(value):
    assert parse_time(value).isoformat() == "2026-12-05T09:30:00+00:00"


def test_the_providers_page_is_generated_from_the_capability_tables():
    from switchboard.providers.tables import render

    page = (FLOWS.parent / "docs" / "providers.md").read_text()
    assert page == render(), (
        "docs/providers.md is stale: uv run python -m switchboard.providers.tables > docs/providers.md"
    )
