"""The interpreter: resumable steps, control flow, limits and polite failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.flow.actions.base import EngineSettings
from switchboard.flow.document import FlowInvalid, build_flow, load_flow, parse_text
from switchboard.flow.interpreter import run
from switchboard.providers.actions import GetDigits, Hangup, Redirect
from switchboard.state import WaitingForDigits
from switchboard.testing import event, spoken, state

FLOWS = Path(__file__).resolve().parents[2] / "flows"
SETTINGS = EngineSettings(callback_url="https://sb.test/voice/instruct")


def test_survey_flow_valid_answer():
    flow = load_flow(FLOWS / "survey.yaml")
    t = run(flow, state(), event(), SETTINGS)
    assert isinstance(t.actions[-2], GetDigits) and isinstance(t.actions[-1], Redirect)
    assert t.actions[-2].callback_url == "https://sb.test/voice/instruct?step=0"
    assert t.actions[-1].url.endswith("?step=0&noinput=1")
    assert not t.ended and t.state.reply_seq == 1 and t.state.waiting == WaitingForDigits(name="rating")
    t = run(flow, t.state, event("4"), SETTINGS)
    assert spoken(t.actions) == ["Thank you. You rated us 4. Goodbye."]
    assert t.ended and isinstance(t.actions[-1], Hangup) and t.state.collected == {"rating": "4"}


def test_survey_flow_retries_then_gives_up():
    flow = load_flow(FLOWS / "survey.yaml")
    t = run(flow, state(), event(), SETTINGS)
    for _ in range(2):
        t = run(flow, t.state, event("9"), SETTINGS)
        assert spoken(t.actions)[0] == "Sorry, please press a key from 1 to 5." and not t.ended
    t = run(flow, t.state, event(""), SETTINGS)  # no input: the redirect came back without digits
    assert spoken(t.actions) == ["We did not get your answer. Goodbye."] and t.ended
    assert t.state.session_data["tries"] == "3"


def test_ivr_repeat_then_choice():
    flow = load_flow(FLOWS / "ivr.yaml")
    t = run(flow, state(), event(), SETTINGS)
    t = run(flow, t.state, event("9"), SETTINGS)
    assert spoken(t.actions) == [
        "For your balance, press 1. To speak to an agent, press 2. To hear this menu again, press 9."
    ]
    t = run(flow, t.state, event("1"), SETTINGS)
    assert spoken(t.actions) == ["Your account balance is 1,250 shillings. Goodbye."] and t.ended


def test_finish_on_key_is_stripped_and_state_is_not_mutated():
    flow = build_flow(
        {
            "actions": [
                {"type": "COLLECT", "params": {"finish_on_key": "pound"}},
                {"type": "SAY", "params": {"text": "got ${keyPresses}"}},
            ]
        },
        name="f",
    )
    first = state()
    t = run(flow, first, event(), SETTINGS)
    assert t.actions[0].finish_on_key == "#"
    assert first.pc == [0] and first.reply_seq == 0  # the input state is left as it was
    t = run(flow, t.state, event("123#"), SETTINGS)
    assert spoken(t.actions) == ["got 123"] and t.state.collected == {"collect_1": "123"}
    assert isinstance(t.actions[-1], Hangup)  # end of actions hangs up


def test_endless_loop_breaks_the_action_budget_politely():
    flow = build_flow(
        {"actions": [{"type": "LABEL", "params": {"name": "a"}}, {"type": "GOTO", "params": {"label": "a"}}]},
        name="loop",
        check=False,
    )
    t = run(flow, state(), event(), EngineSettings(action_budget=50, error_message="Sorry."))
    assert t.ended and t.error and "action budget" in t.error.message
    assert spoken(t.actions) == ["Sorry."] and isinstance(t.actions[-1], Hangup)


def test_expression_error_at_run_time_is_polite():
    flow = build_flow(
        {
            "actions": [
                {
                    "type": "IF",
                    "condition": "hour_in(sessionData.tz) > 1",
                    "then": [{"type": "SAY", "params": {"text": "x"}}],
                }
            ]
        },
        name="tz",
    )
    t = run(flow, state(session_data={"tz": "Nowhere/Atlantis"}), event(), SETTINGS)
    assert t.ended and t.error is not None and not t.internal_error
    assert t.error.pointer == "/actions/0" and "time zone" in t.error.message


def test_nested_if_resumes_inside_branch():
    flow = build_flow(
        {
            "actions": [
                {
                    "type": "IF",
                    "condition": "true",
                    "then": [
                        {"type": "COLLECT", "name": "a"},
                        {"type": "SAY", "params": {"text": "inner ${collected.a}"}},
                    ],
                },
                {"type": "SAY", "params": {"text": "outer"}},
            ]
        },
        name="n",
    )
    t = run(flow, state(), event(), SETTINGS)
    assert t.state.pc == [0, "then", 1]
    t = run(flow, t.state, event("7"), SETTINGS)
    assert spoken(t.actions) == ["inner 7", "outer"]


def test_sessiondata_templates_and_voxology_style():
    flow = build_flow(
        {
            "actions": [
                {"type": "sessiondata", "session_data": {"greet": "Hi ${callerNo}"}},
                {"type": "SAY", "params": {"text": "{{$sessionData.greet}}"}},
            ]
        },
        name="s",
    )
    t = run(flow, state(caller_number="+254700000001"), event(), SETTINGS)
    assert spoken(t.actions) == ["Hi +254700000001"]


def test_voxology_assignments_with_comments_and_session_data_targets():
    """voxology.md §4: an assignment object may carry a ``comment``; ``$sessionData.x`` sets session
    data, read back as such, kept for later callbacks, and copied to a second leg by a later DIAL."""
    flow = build_flow(
        {
            "actions": [
                {"comment": "the agent's number", "$target": "'+254700000200'"},
                {"comments": "remember who called", "$sessionData.caller": "$callerNo", "$sessionData.tries": 1},
                {"type": "SAY", "params": {"text": "Calling ${target} for ${sessionData.caller}."}},
                {"type": "DIAL", "params": {"no": "${target}", "flow": "survey"}, "session_data": "$sessionData"},
                {"$sessionData.after": "'not on the other leg'"},
                {"type": "HANGUP"},
            ]
        },
        name="legs",
    )
    t = run(flow, state(caller_number="+254700000001", session_data={}), event(), SETTINGS)
    assert spoken(t.actions) == ["Calling +254700000200 for +254700000001."]
    assert t.state.session_data == {"caller": "+254700000001", "tries": 1, "after": "not on the other leg"}
    assert "caller" not in t.state.variables and t.state.variables["target"] == "+254700000200"
    (leg,) = [e for e in t.effects if type(e).__name__ == "PlaceCall"]
    assert leg.to == "+254700000200" and leg.session_data == {"caller": "+254700000001", "tries": 1}


@pytest.mark.parametrize(
    ("doc", "pointer", "fragment"),
    [
        ({"actions": [{"comment": "nothing to set"}]}, "/actions/0/type", "missing or non-string 'type'"),
        ({"actions": [{"$sessionData": "1"}]}, "/actions/0", "native variable"),
        ({"actions": [{"$sessionData.a.b": "1"}]}, "/actions/0", "not a variable name"),
        ({"actions": [{"type": "SAYY", "params": {"text": "x"}}]}, "/actions/0/type", "did you mean 'SAY'"),
        ({"actions": [{"type": "SAY", "params": {"txt": "x"}}]}, "/actions/0/params/txt", "did you mean 'text'"),
        ({"actions": [{"type": "GOTO", "params": {"label": "nowhere"}}]}, "/actions/0/params/label", "undefined label"),
        ({"actions": [{"type": "IF", "condition": "$keyPresses = 1", "then": []}]}, "/actions/0/condition", "assigns"),
        (
            {"actions": [{"type": "IF", "condition": "1", "then": [{"type": "SAY", "params": {"text": "${a +}"}}]}]},
            "/actions/0/then/0/params/text",
            "does not parse",
        ),
        (
            {"actions": [{"type": "LABEL", "params": {"name": "x"}}, {"type": "LABEL", "params": {"name": "x"}}]},
            "/actions/1",
            "duplicate label",
        ),
    ],
)
def test_validation_points_at_the_problem(doc, pointer, fragment, expect_problem):
    expect_problem(doc, pointer, fragment)


def test_invalid_yaml_reports_line_and_column():
    with pytest.raises(FlowInvalid) as info:
        parse_text("actions:\n  - type: SAY\n    params: {text: 'x'\n", filename="f.yaml")
    assert "line" in str(info.value) and "column" in str(info.value)


def test_invalid_json_reports_line_and_column():
    with pytest.raises(FlowInvalid) as info:
        parse_text('{"actions": [\n  {"type": "SAY",}\n]}', filename="f.json")
    assert "line 2, column" in str(info.value)


def test_a_run_time_flow_error_carries_the_pointer_of_the_action():
    flow = build_flow(
        {"actions": [{"type": "FOREACH", "params": {"iterator": "$callerNo"}, "then": [{"type": "HANGUP"}]}]},
        name="it",
    )
    t = run(flow, state(caller_number="+254700000001"), event(), SETTINGS)
    assert t.ended and not t.internal_error and t.error is not None
    assert t.error.pointer == "/actions/0/params/iterator" and "not a list or object" in t.error.message
    assert t.state.flow_error == f"{t.error.pointer}: {t.error.message}"  # what the CDR keeps


def test_a_bug_in_the_engine_is_logged_counted_and_never_blamed_on_the_flow(monkeypatch):
    from structlog.testing import capture_logs

    from switchboard.flow import interpreter
    from switchboard.flow.actions import REGISTRY

    def broken(ctx, node):  # a bug of ours, not the flow author's
        return {}["missing"]

    monkeypatch.setattr(REGISTRY["PLAY"], "step", broken)
    flow = build_flow(
        {
            "actions": [
                {"type": "SAY", "params": {"text": "Hello."}},
                {"type": "PLAY", "params": {"url": "https://m.test/a.mp3"}},
            ]
        },
        name="bug",
    )
    before = interpreter.INTERNAL_ERRORS["KeyError"]
    with capture_logs() as logs:
        t = run(flow, state(), event(), EngineSettings(error_message="Sorry."))
    assert spoken(t.actions) == ["Hello.", "Sorry."] and isinstance(t.actions[-1], Hangup)  # never silence
    assert t.ended and t.internal_error and t.error is None and t.state.flow_error is None
    assert interpreter.INTERNAL_ERRORS["KeyError"] == before + 1
    (entry,) = [e for e in logs if e["log_level"] == "error"]
    assert entry["exc_info"] is True and entry["flow"] == "bug" and entry["pc"] == [1]


def test_an_unknown_action_is_refused_even_unchecked():
    with pytest.raises(FlowInvalid) as info:
        build_flow({"actions": [{"type": "SMS", "params": {"text": "x"}}]}, name="u", check=False)
    assert [(p.pointer, p.message) for p in info.value.problems] == [("/actions/0/type", "unknown action 'SMS'")]


def test_params_are_typed_once_with_their_model_defaults():
    from switchboard.flow.actions.collect import CollectParams
    from switchboard.flow.actions.say import SayParams

    flow = build_flow(
        {
            "actions": [
                {
                    "type": "collect",
                    "params": {"timeout": 4000, "actions": [{"type": "say", "params": {"text": "Press a key."}}]},
                }
            ]
        },
        name="typed",
    )
    node = flow.at((0,))
    assert node is not None and isinstance(node.params, CollectParams)
    assert (node.params.timeout, node.params.num_digits, node.pointer) == (4000, None, "/actions/0")
    assert node.prompt is not None and node.prompt.params == SayParams(text="Press a key.")
    assert node.prompt.pointer == "/actions/0/params/actions/0"
    t = run(flow, state(), event(), SETTINGS)
    assert spoken(t.actions) == ["Press a key."] and t.actions[0].timeout_s == 4


def test_a_prompt_inside_params_is_checked_too(expect_problem):
    doc = {"actions": [{"type": "COLLECT", "params": {"actions": [{"type": "SAY", "params": {"txt": "x"}}]}}]}
    expect_problem(doc, "/actions/0/params/actions/0/params/txt", "did you mean 'text'")
