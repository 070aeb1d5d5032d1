"""The Voxology adapter (voxology.md §3–4)."""

from __future__ import annotations

import orjson
import pytest

from switchboard.errors import FlowError, InvalidEvent
from switchboard.events import CallEventType, Direction
from switchboard.flow.actions.base import EngineSettings
from switchboard.flow.document import FlowInvalid, build_flow
from switchboard.flow.interpreter import run
from switchboard.providers.actions import Dequeue, Dial, GetDigits, Hangup, Redirect, Say
from switchboard.providers.voxology import dedupe_key, parse_callback, render
from switchboard.providers.voxology.callbacks import PROVIDER
from switchboard.testing import event, state

LIVE = {
    "type": "live_call",
    "app_id": "app-example-0001",
    "subaccount_id": "0",
    "call_id": "call-example-0001",
    "start_time": "2024-05-06T09:30:00.000Z",
    "direction": "inbound",
    "duration": 15250,
    "status": "live-in-progress",
    "detection": "live_person",
    "caller_no": "+15550000001",
    "caller_no_country": "US",
    "caller_no_timezone": "America/Chicago",
    "api_no": "+15550000100",
    "key_presses": [{"name": "menu", "digits": "2"}],
    "recordings": [],
    "custom_data": {"tenant": "t1"},
    "session_data": {"clinic": "Westside"},
}


def test_spec_example_live_call():
    e = parse_callback(LIVE)
    assert e.type is CallEventType.INPUT_RECEIVED and e.digits == "2" and e.expects_reply
    assert e.call_key == f"{PROVIDER}:call-example-0001" and e.direction is Direction.INBOUND
    assert e.caller_number == "+15550000001" and e.destination_number == "+15550000100"
    assert orjson.loads(e.raw["custom_data"]) == {"tenant": "t1"}


def test_init_end_and_recordings():
    assert parse_callback({**LIVE, "type": "init_call", "key_presses": []}).type is CallEventType.CALL_STARTED
    rec = parse_callback({**LIVE, "key_presses": [], "recordings": [{"name": "vm", "id": "ABC123"}]})
    assert rec.type is CallEventType.RECORDING_RECEIVED and rec.recording_url == "voxology:recording:ABC123"
    end = parse_callback({**LIVE, "type": "end_call", "status": "completed", "end_time": "2024-05-06T09:31:00.000Z"})
    assert end.type is CallEventType.CALL_ENDED and end.duration_s == 15 and end.hangup_cause == "NORMAL_CLEARING"
    assert not end.expects_reply
    busy = parse_callback({**LIVE, "type": "end_call", "status": "busy", "duration": 0})
    assert busy.hangup_cause == "USER_BUSY" and busy.call_start_time is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "ring"}, "type"),
        ({"call_id": ""}, "call_id"),
        ({"key_presses": "1"}, "key_presses"),
        ({"duration": "long"}, "duration"),
        ({"direction": "sideways"}, "direction"),
    ],
)
def test_bad_fields_are_named(change, field):
    with pytest.raises(InvalidEvent) as info:
        parse_callback({**LIVE, **change})
    assert info.value.field == field


def test_dedupe_on_body():
    raw = orjson.dumps(LIVE)
    assert dedupe_key(raw, LIVE) == dedupe_key(raw, LIVE)
    assert dedupe_key(raw, LIVE) != dedupe_key(orjson.dumps({**LIVE, "duration": 1}), LIVE)


def test_render_collect_bridge_and_hangup():
    body, content_type = render(
        [
            Say(text="Hi"),
            GetDigits(prompt=Say(text="Press 1"), num_digits=1, timeout_s=5, finish_on_key="#"),
            Redirect(url="https://sb.test/x"),
        ],
        step=3,
    )
    assert content_type == "application/json"
    assert orjson.loads(body) == {
        "actions": [
            {"type": "SAY", "params": {"text": "Hi"}},
            {
                "type": "COLLECT",
                "name": "sb3",
                "params": {"num_digits": 1, "timeout": 5000, "finish_on_key": "#"},
                "actions": [{"type": "SAY", "params": {"text": "Press 1"}}],
            },
        ]
    }
    body, _ = render([Dial(numbers=["+15550000010"]), Hangup()])
    assert orjson.loads(body)["actions"] == [{"type": "TRANSFER", "params": {"no": "+15550000010"}}, {"type": "HANGUP"}]
    with pytest.raises(FlowError):
        render([Dequeue(phone_number="+15550000100")])
    with pytest.raises(FlowError):
        render([Dial(numbers=["+1555000001", "+1555000002"])])


def test_capability_table_refuses_dequeue_before_the_call():
    doc = {"actions": [{"type": "DEQUEUE", "params": {"phone_number": "+15550000100"}}]}
    with pytest.raises(FlowInvalid) as info:
        build_flow(doc, name="d", provider="voxology")
    assert any("Voxology cannot carry out DEQUEUE" in p.message for p in info.value.problems)
    build_flow(doc, name="d", provider="africastalking")


def test_minimal_callback_is_accepted():
    e = parse_callback({"type": "init_call", "call_id": "c-min", "caller_no": "+15550000001", "api_no": "+15550000100"})
    assert e.type is CallEventType.CALL_STARTED and e.direction is Direction.INBOUND and e.digits is None
    assert e.call_start_time is None and e.call_id is None


@pytest.mark.parametrize("kind", [["live_call"], {"a": 1}])
def test_a_type_that_is_not_a_string_is_refused_naming_it(kind):
    """Found by the ingress fuzz test: an unhashable ``type`` was a 500."""
    body = {"type": kind, "call_id": "c1", "caller_no": "+15550000001", "api_no": "+15550000200"}
    with pytest.raises(InvalidEvent) as err:
        parse_callback(body)
    assert err.value.field == "type"


def test_the_fallback_holds_and_redirects_back_then_apologises() -> None:
    import orjson

    from switchboard.providers import PROVIDERS
    from switchboard.providers.base import FallbackPolicy

    vox = PROVIDERS["voxology"]
    policy = FallbackPolicy(max_redirects=2, hold_audio_url="https://sb.test/providers/media/hold.wav")
    first = orjson.loads(vox.fallback("https://sb.test/providers/voxology/t/s/callback?retry_of=e1", policy).body)
    assert [a["type"] for a in first["actions"]] == ["SAY", "REDIRECT"]
    assert first["actions"][1]["params"] == {
        "url": "https://sb.test/providers/voxology/t/s/callback?retry_of=e1&fallback=1",
        "method": "POST",
    }
    second = orjson.loads(vox.fallback(first["actions"][1]["params"]["url"], policy).body)
    assert [a["type"] for a in second["actions"]] == ["PLAY", "REDIRECT"]
    last = orjson.loads(vox.fallback("https://sb.test/cb?fallback=2", policy).body)
    assert [a["type"] for a in last["actions"]] == ["SAY", "HANGUP"]


def test_conference_events_are_rendered_for_voxology_to_run_in_place():
    """voxology.md §4: CONFERENCE ``params.event`` and ``events.on_enter[]`` /
    ``events.on_enter_error_max_participants[]``, nested lists run in place (rule 1)."""
    flow = build_flow(
        {
            "actions": [
                {
                    "type": "CONFERENCE",
                    "params": {"name": "ward-${sessionData.ward}", "max_participants": 2, "event": "join"},
                    "events": {
                        "on_enter": [{"type": "SAY", "params": {"text": "You are connected."}}],
                        "on_enter_error_max_participants": [
                            {"type": "say", "params": {"text": "Someone else already answered."}},
                            {"type": "HANGUP"},
                        ],
                    },
                }
            ]
        },
        name="conf",
        provider="voxology",
    )
    vox = state(provider="voxology", call_key="voxology:S1", session_data={"ward": "7"})
    turn = run(flow, vox, event(provider="voxology", call_key="voxology:S1"), EngineSettings())
    body, _ = render(turn.actions)
    (conference,) = [a for a in orjson.loads(body)["actions"] if a["type"] == "CONFERENCE"]
    assert conference["params"] == {"name": "ward-7", "end_on_exit": "false", "max_participants": 2, "event": "join"}
    assert conference["events"] == {
        "on_enter": [{"type": "SAY", "params": {"text": "You are connected."}}],
        "on_enter_error_max_participants": [
            {"type": "SAY", "params": {"text": "Someone else already answered."}},
            {"type": "HANGUP"},
        ],
    }
