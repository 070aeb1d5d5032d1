"""Each action as a resumable step: what it renders, what it waits for, what it does with the answer."""

from __future__ import annotations

import pytest

from switchboard.flow.actions.base import EngineSettings, FetchAnswer, PlaceCall
from switchboard.flow.document import FlowInvalid, build_flow
from switchboard.flow.interpreter import run
from switchboard.providers.actions import (
    Conference,
    Dequeue,
    Dial,
    Enqueue,
    Hangup,
    Record,
    Redirect,
    Reject,
    Say,
)
from switchboard.providers.africastalking import render
from switchboard.testing import event, spoken, state

S = EngineSettings(callback_url="https://sb.test/cb")


def flow(*actions, check=True):
    return build_flow({"actions": list(actions)}, name="t", check=check)


def test_foreach_survives_callbacks():
    f = flow(
        {"type": "SET", "params": {"qs": "['Food?', 'Service?']"}},
        {
            "type": "FOREACH",
            "params": {"iterator": "$qs"},
            "then": [
                {
                    "type": "COLLECT",
                    "params": {"num_digits": 1},
                    "actions": [{"type": "SAY", "params": {"text": "${index}: ${val}"}}],
                }
            ],
        },
        {"type": "SAY", "params": {"text": "Done: ${collected.collect_1}${collected.collect_2}"}},
    )
    t = run(f, state(), event(), S)
    assert spoken(t.actions) == ["0: Food?"]
    t = run(f, t.state, event("4"), S)
    assert spoken(t.actions) == ["1: Service?"]
    t = run(f, t.state, event("5"), S)
    assert spoken(t.actions) == ["Done: 45"] and t.ended and t.state.loops == {}


def test_foreach_over_an_object_and_the_cap():
    f = flow(
        {
            "type": "FOREACH",
            "params": {"iterator": "sessionData.prices"},
            "then": [{"type": "SAY", "params": {"text": "${index} costs ${val}"}}],
        }
    )
    t = run(f, state(session_data={"prices": {"tea": 1, "cake": 3}}), event(), S)
    assert spoken(t.actions) == ["tea costs 1", "cake costs 3"]
    t = run(f, state(session_data={"prices": {str(i): i for i in range(5)}}), event(), EngineSettings(foreach_cap=3))
    assert t.ended and "exceeds the cap of 3" in str(t.error)


def test_set_and_bare_assignment():
    f = flow(
        {"$n": "2"},
        {"type": "SET", "params": {"m": "$n * 21", "greeting": "'Hi ' + $callerNo"}},
        {"type": "SAY", "params": {"text": "${greeting}: ${m}"}},
    )
    assert spoken(run(f, state(), event(), S).actions) == ["Hi +254700000001: 42"]


def test_record_partial_then_terminal():
    f = flow(
        {
            "type": "RECORD",
            "name": "msg",
            "params": {"max_length": 30, "play_beep": True},
            "actions": [{"type": "SAY", "params": {"text": "Speak."}}],
        },
        {"type": "SAY", "params": {"text": "Got ${recordings.msg}"}},
        {"type": "RECORD", "params": {"terminal": True}},
    )
    t = run(f, state(), event(), S)
    (rec,) = t.actions
    assert isinstance(rec, Record) and rec.max_length_s == 30 and rec.callback_url == "https://sb.test/cb?step=0"
    t = run(f, t.state, event(recording="https://r.test/1.mp3"), S)
    assert spoken(t.actions) == ["Got https://r.test/1.mp3"] and t.actions[-1] == Record(terminal=True) and t.ended
    body, _ = render(t.actions)
    assert body.endswith(b"<Record /></Response>")


def test_dial_bridges_and_comes_back_when_nobody_answers():
    f = flow(
        {"type": "DIAL", "params": {"no": ["+254700000010", "+254700000011"], "sequential": True}},
        {"type": "SAY", "params": {"text": "Nobody answered."}},
    )
    t = run(f, state(), event(), S)
    assert t.actions == [
        Dial(numbers=["+254700000010", "+254700000011"], sequential=True),
        Redirect(url="https://sb.test/cb?step=0&dial=1"),
    ]
    assert spoken(run(f, t.state, event(), S).actions) == ["Nobody answered."]


def test_dial_with_a_flow_places_a_separate_leg():
    f = flow(
        {"type": "DIAL", "params": {"no": "+254700000012", "flow": "otp"}, "session_data": {"code": "${callerNo}"}},
        {"type": "SAY", "params": {"text": "We are calling them."}},
    )
    t = run(f, state(), event(), S)
    assert t.effects == [PlaceCall(to="+254700000012", flow="otp", session_data={"code": "+254700000001"})]
    assert spoken(t.actions) == ["We are calling them."]


def test_transfer_queue_dequeue_conference_reject():
    assert run(flow({"type": "TRANSFER", "params": {"no": "+254700000010"}}), state(), event(), S).actions[0] == Dial(
        numbers=["+254700000010"]
    )
    t = run(
        flow({"type": "QUEUE", "params": {"name": "support", "hold_music_url": "https://m.test/h.mp3"}}),
        state(),
        event(),
        S,
    )
    assert t.actions == [Enqueue(name="support", hold_music_url="https://m.test/h.mp3")] and not t.ended
    t = run(flow({"type": "DEQUEUE", "params": {"phone_number": "+254711000301"}}), state(), event(), S)
    assert t.actions == [Dequeue(phone_number="+254711000301")]
    t = run(
        flow({"type": "CONFERENCE", "params": {"name": "room-${callerNo}", "end_on_exit": "true"}}), state(), event(), S
    )
    assert t.actions == [Conference(name="room-+254700000001", end_on_exit=True)]
    assert render(t.actions)[0].endswith(b"<Conference /></Response>")
    t = run(flow({"type": "REJECT"}), state(), event(), S)
    assert t.actions == [Reject()] and t.ended


def test_stop_holds_without_hanging_up():
    t = run(flow({"type": "SAY", "params": {"text": "Wait."}}, {"type": "STOP"}), state(), event(), S)
    assert t.actions == [Say(text="Wait.")] and not t.ended and Hangup() not in t.actions


def test_webhook_answer_saved_and_dynamic_replacement():
    f = flow(
        {"type": "WEBHOOK", "params": {"url": "https://crm.test/x", "save_as": "crm"}},
        {"type": "SAY", "params": {"text": "Hi ${webhook.crm.name}"}},
    )
    t = run(f, state(), event(), S)
    assert t.fetch is not None and t.fetch.kind == "webhook" and t.fetch.body["caller_no"] == "+254700000001"
    after = run(f, t.state, None, S, answer=FetchAnswer(data={"name": "Amina"}))
    assert spoken(after.actions) == ["Hi Amina"]
    replaced = run(
        f, t.state, None, S, answer=FetchAnswer(data={"actions": [{"type": "SAY", "params": {"text": "New"}}]})
    )
    assert spoken(replaced.actions) == ["New"] and replaced.state.dynamic_doc is not None
    failed = run(f, t.state, None, S, answer=FetchAnswer(error="timed out after 3000 ms"))
    assert failed.ended and "timed out" in str(failed.error)


def test_redirect_to_a_flow_and_to_a_url():
    other = build_flow({"name": "other", "actions": [{"type": "SAY", "params": {"text": "Other flow."}}]}, name="other")
    f = flow({"type": "REDIRECT", "params": {"flow": "other"}})
    t = run(f, state(), event(), S)
    assert t.fetch.kind == "flow" and t.fetch.flow == "other"
    after = run(f, t.state, None, S, answer=FetchAnswer(data=other))
    assert spoken(after.actions) == ["Other flow."] and after.state.flow_ref == "other"
    g = flow({"type": "REDIRECT", "params": {"url": "https://app.test/next"}})
    t = run(g, state(), event(), S)
    assert t.fetch.kind == "actions" and t.fetch.body["event"]["type"] == "call.started"
    bad = run(g, t.state, None, S, answer=FetchAnswer(data={"actions": [{"type": "NOPE"}]}))
    assert bad.ended and "invalid flow" in str(bad.error)


def test_capability_gaps_are_render_errors_too():
    import pytest

    from switchboard.errors import FlowError

    t = run(flow({"type": "PAUSE", "params": {"length": 1}}), state(), event(), S)
    with pytest.raises(FlowError):
        render(t.actions)


def test_nesting_limit_at_run_time():
    inner: list = [{"type": "SAY", "params": {"text": "deep"}}]
    for _ in range(4):
        inner = [{"type": "IF", "condition": "true", "then": inner}]
    t = run(flow(*inner, check=False), state(), event(), EngineSettings(max_depth=2))
    assert t.ended and "nesting deeper than 2" in str(t.error)


def test_an_application_written_for_voxology_gets_voxologys_request_on_any_provider():
    """voxology.md §3: ``key_presses`` is a list of ``{name, digits}``; the tutorial application
    read ``key_presses[0].digits`` and, given Switchboard's string, never saw the caller's key."""
    doc = {
        "dialect": "voxology",
        "actions": [
            {
                "type": "COLLECT",
                "name": "menu",
                "params": {"num_digits": 1},
                "actions": [{"type": "SAY", "params": {"text": "Press 1."}}],
            },
            {"type": "REDIRECT", "params": {"url": "https://app.test/next"}},
        ],
    }
    f = build_flow(doc, name="vox-app")
    t = run(f, state(), event(), S)  # Africa's Talking call
    t = run(f, t.state, event("1"), S)
    body = t.fetch.body
    assert body["type"] == "live_call" and body["key_presses"] == [{"name": "menu", "digits": "1"}]
    assert (body["caller_no"], body["api_no"], body["subaccount_id"]) == ("+254700000001", "+254711000200", "0")
    assert body["session_data"] == t.state.session_data and "call_key" not in body
    # its answer continues the call in the same dialect: the next request is Voxology's too
    answer = {"actions": [{"type": "WEBHOOK", "params": {"url": "https://app.test/log"}}]}
    after = run(f, t.state, None, S, answer=FetchAnswer(data=answer))
    assert after.fetch.kind == "webhook" and after.fetch.body["key_presses"] == [{"name": "menu", "digits": "1"}]


def test_the_dialect_defaults_by_the_provider_the_call_runs_on():
    f = flow({"type": "REDIRECT", "params": {"url": "https://app.test/next"}})
    on_at = run(f, state(), event(), S).fetch.body
    assert on_at["key_presses"] is None or isinstance(on_at["key_presses"], str)  # Switchboard's call JSON
    assert on_at["call_key"] == "africastalking:S1"
    vox = state(provider="voxology", call_key="voxology:S1")
    on_vox = run(f, vox, event(provider="voxology", call_key="voxology:S1"), S).fetch.body
    assert on_vox["type"] == "init_call" and on_vox["key_presses"] == [] and "call_key" not in on_vox
    pinned = build_flow({"dialect": "switchboard", "actions": f.actions}, name="pinned")
    assert (
        run(pinned, vox, event(provider="voxology", call_key="voxology:S1"), S).fetch.body["call_key"] == "voxology:S1"
    )
    with pytest.raises(FlowInvalid) as refused:
        build_flow({"dialect": "twiml", "actions": []}, name="bad")
    assert [p.pointer for p in refused.value.problems] == ["/dialect"]
