"""Lines of JSON pointers in a flow's text (switchboard.flow.lines): YAML and JSON, nested actions,
syntax errors at their own line, and check_text as the flow-runner loads a file."""

from __future__ import annotations

from pathlib import Path

from switchboard.flow.document import load_flow
from switchboard.flow.lines import check_text, line_of

YAML = """\
name: demo
actions:
  - type: SAY
    params:
      text: hello
  - type: IF
    condition: "$x == 1"
    then:
      - type: HANGUP
"""
JSON = '{\n  "actions": [\n    {"type": "SAY",\n     "params": {"text": "hi"}},\n    {"type": "HANGUP"}\n  ]\n}\n'


def test_pointers_name_the_line_of_their_key_or_item() -> None:
    assert line_of(YAML, "/actions") == 2
    assert line_of(YAML, "/actions/0") == 3
    assert line_of(YAML, "/actions/0/params") == 4
    assert line_of(YAML, "/actions/0/params/text") == 5
    assert line_of(YAML, "/actions/1/then/0") == 9
    assert line_of(JSON, "/actions/1") == 5
    assert line_of(JSON, "/actions/0/params/text") == 4


def test_a_pointer_past_the_text_stops_at_its_nearest_ancestor() -> None:
    assert line_of(YAML, "/actions/0/params/voice") == 4  # a missing param: the params' line
    assert line_of(YAML, "/actions/7") == 2
    assert line_of("a: [", "/a") is None  # not even composable


def test_check_text_gives_every_problem_a_line_and_a_valid_flow_its_version() -> None:
    bad = YAML.replace("type: HANGUP", "type: HANGPU").replace("text: hello", "txt: hello")
    flow, problems = check_text(bad)
    assert flow is None
    found = {(p.pointer, p.line) for p in problems}
    assert ("/actions/0/params/txt", 5) in found and ("/actions/1/then/0/type", 9) in found
    severities = [p.severity for p in problems]
    assert severities == sorted(severities)  # errors first, then warnings ($x is read, never set)
    assert ("/actions/1/condition", 7, "warning") in {(p.pointer, p.line, p.severity) for p in problems}
    flow, problems = check_text(YAML)
    assert flow is not None and len(flow.version) == 12 and flow.doc["name"] == "demo"


def test_a_syntax_error_is_placed_at_the_line_the_parser_names() -> None:
    flow, problems = check_text("actions:\n  - type: SAY\n    params: {text: hi\n")
    assert flow is None and problems[0].line == 4 and problems[0].pointer == ""
    flow, problems = check_text('{"actions": [\n  {"type": "SAY",}\n]}')
    assert flow is None and problems[0].line == 2


def test_the_version_is_the_one_the_runner_gives_the_file() -> None:
    path = Path(__file__).parents[2] / "flows" / "survey.yaml"
    flow = check_text(path.read_text())[0]
    assert flow is not None and flow.version == load_flow(path).version


def test_a_character_yaml_refuses_is_a_problem_at_its_line_and_column() -> None:
    """Found by the api's fuzz test: a C1 control character made ``POST /v1/flows/validate``
    answer 500 (PyYAML's ReaderError is not a MarkedYAMLError)."""
    for text, line, column, code in [
        ("\u00ed\u008c", 1, 2, "008c"),
        ("name: demo\nactions:\n  - type: SAY\x07", 3, 14, "0007"),
        ("actions:\n  - \ud800", 2, 5, "d800"),
    ]:
        flow, problems = check_text(text)
        assert flow is None and len(problems) == 1, text
        assert problems[0].line == line and problems[0].severity == "error"
        assert f"line {line}, column {column}: character #x{code} is not allowed" in problems[0].message


def test_nesting_deeper_than_the_parsers_recursion_is_a_problem_not_a_crash() -> None:
    for text in ["[" * 5000, "actions: " + "[" * 3000 + "]" * 3000]:
        flow, problems = check_text(text)
        assert flow is None and [p.message for p in problems] == ["the document is nested too deeply to read"]
