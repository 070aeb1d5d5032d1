"""``switchboard flows validate`` and ``switchboard flows schema``."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from switchboard.flow.document import load_yaml
from switchboard.flow.schema import language_schema
from switchboard_cli.main import app

REPO = Path(__file__).resolve().parents[3]
VOX = REPO / "shared" / "tests" / "voxology"
runner = CliRunner()


def test_valid_flows_exit_0():
    result = runner.invoke(
        app, ["flows", "validate", str(REPO / "flows" / "survey.yaml"), str(VOX / "confirm-appointment.json")]
    )
    assert result.exit_code == 0, result.output
    assert "survey.yaml: ok" in result.output


def test_warnings_exit_1(tmp_path):
    flow = tmp_path / "w.json"
    flow.write_text('{"actions": [{"type": "SAY", "params": {"text": "Hi ${who}"}}]}')
    result = runner.invoke(app, ["flows", "validate", str(flow)])
    assert result.exit_code == 1 and "warning: /actions/0/params/text" in result.output


def test_errors_exit_2_with_pointers():
    result = runner.invoke(app, ["flows", "validate", str(VOX / "untidy-typos.json")])
    assert result.exit_code == 2
    assert "error: /actions/0/params/txt: SAY has no param 'txt' (did you mean 'text'?)" in result.output


def test_broken_json_names_line_and_column(tmp_path):
    flow = tmp_path / "broken.json"
    flow.write_text('{"actions": [\n  {"type": "SAY" "params": {}}\n]}')
    result = runner.invoke(app, ["flows", "validate", str(flow)])
    assert result.exit_code == 2 and "invalid JSON at line 2, column" in result.output


def test_capability_check_follows_the_provider():
    path = str(VOX / "untidy-structure.yaml")
    assert "cannot carry out PAUSE" in runner.invoke(app, ["flows", "validate", path]).output
    assert "cannot carry out" not in runner.invoke(app, ["flows", "validate", "--provider", "none", path]).output


def test_published_schema_is_current():
    published = json.loads((REPO / "docs" / "flow-language.schema.json").read_text())
    assert published == language_schema(), (
        "run: uv run switchboard flows schema --output docs/flow-language.schema.json"
    )


@pytest.mark.parametrize(
    "path",
    sorted(
        [*(REPO / "flows").glob("*.yaml"), *(p for p in VOX.glob("*.json") if not p.name.startswith("untidy"))], key=str
    ),
)
def test_flows_match_the_schema(path):
    if path.stem == "routes":
        return
    doc = load_yaml(path.read_text())
    jsonschema.validate(doc, language_schema())


def test_schema_refuses_unknown_params():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"actions": [{"type": "SAY", "params": {"txt": "x"}}]}, language_schema())
