"""The committed JSON Schemas and AsyncAPI document are what the event models generate, and
every example payload validates against its published schema."""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from switchboard.events import EVENT_MODELS
from switchboard.topics import Topic

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("event_docs", REPO / "scripts" / "event_docs.py")
assert spec and spec.loader
event_docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(event_docs)


def test_committed_docs_match_the_models():
    stale = [str(p) for p, text in event_docs.render().items() if not p.exists() or p.read_text() != text]
    assert stale == [], "run: uv run python scripts/event_docs.py"


def test_every_topic_is_in_the_asyncapi_document_with_its_dead_letter_topic():
    document = yaml.safe_load((REPO / "docs" / "asyncapi.yaml").read_text())
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {name for t in Topic for name in (t.value, t.dlq)}


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m.__name__)
def test_each_example_validates_against_its_published_schema(model):
    schema = json.loads((REPO / "docs" / "schemas" / f"{event_docs.schema_name(model)}.json").read_text())
    example = json.loads(
        importlib.resources.files("switchboard.examples").joinpath(f"{model.__name__}.v1.json").read_bytes()
    )
    jsonschema.validate(example, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**example, "schema_version": 2}, schema)
