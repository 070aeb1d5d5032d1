"""Validation of flows written by other people: Voxology scripts as published, and untidy ones."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from switchboard.flow.actions.base import EngineSettings
from switchboard.flow.document import FlowInvalid, build_flow, load_flow
from switchboard.flow.interpreter import run
from switchboard.testing import event, spoken, state

HERE = Path(__file__).parent / "voxology"
FLOWS = Path(__file__).resolve().parents[2] / "flows"


def problems_of(path: Path, provider: str | None = "africastalking") -> list[tuple[str, str, str]]:
    try:
        flow = load_flow(path, provider=provider)
    except FlowInvalid as exc:
        return [(p.severity, p.pointer, p.message) for p in exc.problems]
    return [(p.severity, p.pointer, p.message) for p in flow.warnings]


@pytest.mark.parametrize(
    "name", ["multi-action.json", "conditional-processing.json", "variable-processing.json", "confirm-appointment.json"]
)
def test_published_voxology_scripts_are_accepted(name):
    assert [p for p in problems_of(HERE / name) if p[0] == "error"] == []


CORPUS = yaml.safe_load((HERE / "corpus.yaml").read_text())


@pytest.mark.parametrize("provider", ["voxology", "africastalking", "telesign"])
@pytest.mark.parametrize("name", sorted({entry["flow"] for entry in CORPUS}))
def test_the_corpus_is_accepted_where_it_runs_and_refused_with_a_reason_elsewhere(name, provider):
    """Where corpus.yaml runs a flow on a provider, it loads there without errors; where it does
    not, validation refuses it before any call (or warns at what the provider would drop)."""
    runs_on = {p for entry in CORPUS if entry["flow"] == name for p in entry["providers"]}
    problems = problems_of(HERE / name, provider=provider)
    errors = [p for p in problems if p[0] == "error"]
    if provider in runs_on:
        assert errors == [], errors
    elif name == "conference-events.json" and provider == "africastalking":
        assert errors == [] and find(problems, "/actions/1/events", "does not carry this out", "warning")
    else:
        assert errors and all(p.startswith("/actions/") for _, p, _ in errors), problems


@pytest.mark.parametrize("path", sorted(p.name for p in FLOWS.glob("*.yaml") if p.stem != "routes"))
def test_example_flows_are_valid_on_africas_talking(path):
    assert problems_of(FLOWS / path) == []


def find(problems, pointer: str, fragment: str, severity: str = "error") -> bool:
    return any(s == severity and p == pointer and fragment in m for s, p, m in problems)


def test_untidy_typos_are_pointed_at():
    problems = problems_of(HERE / "untidy-typos.json")
    expected = [
        ("/actions/0/params/txt", "did you mean 'text'"),
        ("/actions/1/type", "did you mean 'COLLECT'"),
        ("/actions/2/condition", "'=' assigns: an expression only reads"),
        ("/actions/4/params/label", "did you mean 'main'"),
        ("/actions/6/params/num_digits", "valid integer"),
        ("/actions/6/params/finish_on_key", "'#' (or 'pound')"),
        ("/actions/6/actions/0/type", "a prompt takes SAY or PLAY"),
    ]
    for pointer, fragment in expected:
        assert find(problems, pointer, fragment), (pointer, fragment, problems)
    # the bare Voxology assignment is accepted as a SET, and its expression is checked
    assert not any(p.startswith("/actions/3") for _, p, _ in problems)


def test_untidy_structure_is_pointed_at():
    problems = problems_of(HERE / "untidy-structure.yaml")
    # SAY then REJECT is allowed (AT's own example app does it, africastalking.md §8): a warning only
    assert find(problems, "/actions/1", "REJECT after SAY at /actions/0: the call is answered first", "warning")
    assert not find(problems, "/actions/1", "REJECT")
    assert find(problems, "/actions/3/type", "Africa's Talking cannot carry out PAUSE")
    assert find(problems, "/actions/4/then/0", "could spin forever")
    assert find(problems, "/actions/6", "unreachable: it follows HANGUP at /actions/5")
    assert find(problems, "/actions/0/params/text", "variable 'customer' is read but never set", "warning")


def test_without_a_provider_only_the_capability_check_goes():
    problems = problems_of(HERE / "untidy-structure.yaml", provider=None)
    assert not any("cannot carry out" in m for _, _, m in problems)
    assert any("could spin" in m for _, _, m in problems)


def test_warnings_alone_do_not_stop_a_flow():
    flow = build_flow({"actions": [{"type": "SAY", "params": {"text": "Hi ${nobody}"}}]}, name="w")
    assert [p.pointer for p in flow.warnings] == ["/actions/0/params/text"]


@pytest.mark.parametrize(
    ("doc", "pointer", "fragment"),
    [
        ({"actions": [{"type": "PLAY", "params": {"url": "ftp://x.test/a.mp3"}}]}, "/actions/0/params/url", "http"),
        ({"actions": [{"type": "PLAY", "params": {"url": "https://x.test/a.ogg"}}]}, "/actions/0/params/url", ".mp3"),
        ({"actions": [{"type": "SAY"}]}, "/actions/0/params", "needs param 'text'"),
        (
            {"actions": [{"type": "REDIRECT", "params": {"url": "https://a.test/x", "flow": "b"}}]},
            "/actions/0/params",
            "exactly one",
        ),
        ({"actions": [{"type": "SET", "params": {"callerNo": "1"}}]}, "/actions/0/params", "native variable"),
        (
            {"actions": [{"type": "FOREACH", "params": {"iterator": "[1,"}, "then": []}]},
            "/actions/0/params/iterator",
            "does not parse",
        ),
        ({"actions": [{"type": "SAY", "params": {"text": "x"}, "then": []}]}, "/actions/0/then", "SAY has no key"),
        (
            {"actions": [{"type": "WEBHOOK", "params": {"url": "https://a.test", "timeout_ms": 0}}]},
            "/actions/0/params/timeout_ms",
            "greater than or equal to 1",
        ),
    ],
)
def test_param_shapes(doc, pointer, fragment, expect_problem):
    expect_problem(doc, pointer, fragment)


def test_nesting_limit():
    inner: list = [{"type": "SAY", "params": {"text": "deep"}}]
    for _ in range(10):
        inner = [{"type": "IF", "condition": "true", "then": inner}]
    with pytest.raises(FlowInvalid) as info:
        build_flow({"actions": inner}, name="deep")
    assert any("nested deeper than 8" in p.message for p in info.value.problems)


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("1#", "You pressed 1, or you are over 21."),
        ("2#", "You did not press 1 and are not a male or are not over 21."),
    ],
)
def test_accepted_voxology_script_runs_the_expected_path(digits, expected):
    flow = load_flow(HERE / "variable-processing.json")
    t = run(flow, state(), event(), EngineSettings())
    t = run(flow, t.state, event(digits), EngineSettings())
    assert spoken(t.actions) == [expected, "We hope you enjoyed variable processing. Good bye."]
    assert t.ended and t.state.session_data == {"gender": "male", "age": 19, "isNice": True}


def test_multi_action_script_skips_to_the_label():
    flow = load_flow(HERE / "multi-action.json")
    t = run(flow, state(), event(), EngineSettings())
    assert spoken(t.actions) == [
        "Hello, world. Welcome to multi action processing. You can have one or more actions in the same script.",
        "You successfully navigated to a labeled action.",
    ]


def test_yaml_no_yes_on_off_stay_strings():
    from switchboard.flow.document import parse_text

    doc = parse_text(
        "actions:\n"
        "  - type: DIAL\n    params: {no: '+254700000010', record: true}\n"
        "  - {type: SAY, params: {text: on}}\n",
        filename="f.yaml",
    )
    assert doc["actions"][0]["params"] == {"no": "+254700000010", "record": True}
    assert doc["actions"][1]["params"]["text"] == "on"


def test_say_then_reject_loads_runs_and_renders_for_africas_talking():
    """AT's own example app speaks a balance, then rejects (africastalking.md §4, §8): the flow loads
    with a warning only, the engine emits both actions and the AT renderer writes both elements."""
    from switchboard.providers.actions import Reject, Say
    from switchboard.providers.africastalking import render

    doc = {"actions": [{"type": "SAY", "params": {"text": "Your balance is 120 shillings."}}, {"type": "REJECT"}]}
    flow = build_flow(doc, name="balance", provider="africastalking")
    assert [(p.severity, p.pointer) for p in flow.warnings] == [("warning", "/actions/1")]
    t = run(flow, state(), event(), EngineSettings())
    assert t.actions == [Say(text="Your balance is 120 shillings."), Reject()] and t.ended
    body, _ = render(t.actions)
    assert body.endswith(b"<Response><Say>Your balance is 120 shillings.</Say><Reject /></Response>")


CONFERENCE_WITH_EVENTS = {
    "actions": [
        {
            "type": "CONFERENCE",
            "params": {"name": "standup", "max_participants": 2, "end_on_exit": "true", "event": "join"},
            "events": {
                "on_enter": [{"type": "SAY", "params": {"text": "Welcome."}}],
                "on_enter_error_max_participants": [{"type": "SAY", "params": {"text": "Someone else answered."}}],
            },
        }
    ]
}


def warnings_of(doc: dict, provider: str | None) -> list[tuple[str, str]]:
    return [(p.pointer, p.message) for p in build_flow(doc, name="c", provider=provider).warnings]


def test_what_a_provider_drops_of_a_conference_is_a_warning_at_its_pointer():
    """africastalking.md §4/Unknowns: <Conference> has no documented attributes, so nothing of a
    CONFERENCE but the joining is carried there, and it is not dropped without a word; Voxology
    carries all of it (voxology.md §4)."""
    at = dict(warnings_of(CONFERENCE_WITH_EVENTS, "africastalking"))
    for key in ("params/name", "params/max_participants", "params/end_on_exit", "params/event", "events"):
        assert "Africa's Talking does not carry this out" in at[f"/actions/0/{key}"], at
    assert warnings_of(CONFERENCE_WITH_EVENTS, "voxology") == []
    assert warnings_of(CONFERENCE_WITH_EVENTS, None) == []  # no provider: nothing to drop
    bare = {"actions": [{"type": "CONFERENCE", "params": {"name": "x"}}]}
    assert dict(warnings_of(bare, "voxology")) == {}
    assert list(dict(warnings_of(bare, "africastalking"))) == ["/actions/0/params/name"]


def test_a_conference_event_takes_say_play_or_hangup_at_its_pointer():
    doc = {
        "actions": [
            {
                "type": "CONFERENCE",
                "params": {"name": "x"},
                "events": {
                    "on_enter": [{"type": "GOTO", "params": {"label": "a"}}, {"type": "SAY", "params": {"txt": "x"}}],
                    "on_enter_error_max_participants": {"type": "HANGUP"},
                },
            }
        ]
    }
    with pytest.raises(FlowInvalid) as refused:
        build_flow(doc, name="c", provider="voxology")
    pointers = {p.pointer: p.message for p in refused.value.problems}
    assert "takes SAY, PLAY, HANGUP, not GOTO" in pointers["/actions/0/events/on_enter/0/type"]
    assert "/actions/0/events/on_enter/1/params" in pointers
    assert "list of actions" in pointers["/actions/0/events/on_enter_error_max_participants"]
