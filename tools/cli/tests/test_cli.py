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


def test_schema_takes_voxology_assignments_with_a_comment_and_session_data_targets():
    schema = language_schema()
    jsonschema.validate({"actions": [{"comment": "who", "$target": "'+1555'", "$sessionData.leg": "'a'"}]}, schema)
    for refused in ({"comment": "only a comment"}, {}, {"$x": "1", "note": "not a comment key"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"actions": [refused]}, schema)


def test_the_whole_flows_folder_validates_as_the_readme_shows():
    """``switchboard flows validate flows/*.yaml``: routes.yaml is checked as routes, not as a flow."""
    paths = sorted(str(p) for p in (REPO / "flows").glob("*.yaml"))
    result = runner.invoke(app, ["flows", "validate", *paths])
    assert result.exit_code == 0, result.output
    assert f"{REPO / 'flows' / 'routes.yaml'}: ok" in result.output


def write_routes(folder: Path, text: str, name: str = "routes.yaml") -> Path:
    for flow in ("survey.yaml", "agent-queue.yaml"):
        (folder / flow).write_text((REPO / "flows" / flow).read_text())
    path = folder / name
    path.write_text(text)
    return path


ROUTE_PROBLEMS = [
    (
        'voxology:\n  "+15550000100": survy\n',
        "error: /voxology/+15550000100: no flow named 'survy' (did you mean 'survey'?)",
    ),
    (
        'voxolgy:\n  "+15550000100": survey\n',
        "error: /voxolgy: unknown provider 'voxolgy' (did you mean 'voxology'?)",
    ),
    (
        'africastalking:\n  "0711000100": survey\n',
        "error: /africastalking/0711000100: '0711000100' is not an E.164 number",
    ),
    (
        "africastalking:\n  +254711000100: survey\n",
        "error: /africastalking/254711000100: 254711000100 is not a quoted E.164 number",
    ),
    ("default: [survey]\n", "error: /default: a route's target is a flow name or an application URL"),
    (
        'telesign:\n  "+15550000901": agent-queue\n',
        "error: /telesign/+15550000901: flow 'agent-queue' cannot run on telesign",
    ),
]


@pytest.mark.parametrize(("routes", "line"), ROUTE_PROBLEMS)
def test_routes_problems_name_the_route(tmp_path, routes, line):
    result = runner.invoke(app, ["flows", "validate", str(write_routes(tmp_path, routes))])
    assert result.exit_code == 2, result.output
    assert line in result.output


def test_application_urls_and_a_default_are_routes_too(tmp_path):
    text = (
        'africastalking:\n  "+254711000400": https://app.example.test/ivr\n  "+254711000100": survey\ndefault: survey\n'
    )
    result = runner.invoke(app, ["flows", "validate", str(write_routes(tmp_path, text))])
    assert result.exit_code == 0, result.output


def test_a_routes_shaped_file_is_recognised_by_its_content(tmp_path):
    path = write_routes(tmp_path, 'voxology:\n  "+15550000100": nope\n', name="inbound-numbers.yaml")
    result = runner.invoke(app, ["flows", "validate", str(path)])
    assert result.exit_code == 2 and "no flow named 'nope'" in result.output


def test_a_flows_folder_validates_its_tenant_folders_too(tmp_path):
    """``switchboard flows validate FOLDER`` checks each ``tenants/<id>/`` folder's flows and routes,
    a tenant's routes against that tenant's own flows."""
    write_routes(tmp_path, 'africastalking:\n  "+254711000100": survey\n')
    acme = tmp_path / "tenants" / "acme"
    acme.mkdir(parents=True)
    survey = (REPO / "flows" / "survey.yaml").read_text()
    (acme / "sales.yaml").write_text(survey.replace("\nname: survey\n", "\nname: sales\n", 1))
    (acme / "routes.yaml").write_text('africastalking:\n  "+254711000500": sales\n')
    result = runner.invoke(app, ["flows", "validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"{acme / 'routes.yaml'}: ok" in result.output
    (acme / "routes.yaml").write_text('africastalking:\n  "+254711000500": slaes\n')
    result = runner.invoke(app, ["flows", "validate", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert f"{acme / 'routes.yaml'}: error: /africastalking/+254711000500: no flow named 'slaes'" in result.output
