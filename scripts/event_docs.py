"""Generate ``docs/schemas/<Model>.v<N>.json`` (JSON Schema of every event model) and
``docs/asyncapi.yaml`` (an AsyncAPI 3.0 document with every topic, its dead-letter topic, key,
producer, consumers and message schema) from :mod:`switchboard.events` and
:mod:`switchboard.topics`, so an analytics team can consume without reading our code.

    uv run python scripts/event_docs.py          # write the files
    uv run python scripts/event_docs.py --check  # exit 1 when the committed files differ

``tests/test_event_docs.py`` runs the check.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from switchboard import __version__
from switchboard.events import (
    EVENT_MODELS,
    CallEvent,
    CdrRecorded,
    DialAttempt,
    DialRequest,
    FlowErrorEvent,
    SessionEnded,
    StatusCallbackPosted,
)
from switchboard.topics import Topic

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
TOPIC_MODELS: dict[Topic, type] = {
    Topic.CALL_EVENTS: CallEvent,
    Topic.DIAL_REQUESTS: DialRequest,
    Topic.DIAL_ATTEMPTS: DialAttempt,
    Topic.SESSIONS_ENDED: SessionEnded,
    Topic.FLOW_ERRORS: FlowErrorEvent,
    Topic.CDRS: CdrRecorded,
    Topic.STATUS_CALLBACKS: StatusCallbackPosted,
}


def schema_name(model: type) -> str:
    version = model.model_fields["schema_version"].default
    return f"{model.__name__}.v{version}"


def topic_notes() -> dict[str, str]:
    """``CDRS`` → "key = call key; producer cdr-sink …", from the Topic docstring."""
    notes = {}
    for line in (Topic.__doc__ or "").splitlines():
        if m := re.match(r"\s*- ``(\w+)``: (.*)", line):
            notes[m[1]] = m[2].strip()
    return notes


def render() -> dict[Path, str]:
    """Every generated file and its text."""
    files: dict[Path, str] = {}
    for model in EVENT_MODELS:
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"urn:switchboard:event:{schema_name(model)}"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        files[DOCS / "schemas" / f"{schema_name(model)}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    notes = topic_notes()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic, model in TOPIC_MODELS.items():
        name = schema_name(model)
        doc = (model.__doc__ or "").strip()
        messages[name] = {
            "name": name,
            "title": model.__name__,
            "summary": doc.split("\n\n")[0].replace("\n", " "),
            "description": doc,
            "contentType": "application/json",
            "payload": {"$ref": f"schemas/{name}.json"},
            "bindings": {"kafka": {"key": {"type": "string"}}},
        }
        ref = f"#/components/messages/{name}"
        channels[topic.name] = {
            "address": topic.value,
            "description": notes.get(topic.name, ""),
            "messages": {name: {"$ref": ref}},
        }
        channels[f"{topic.name}_DLQ"] = {
            "address": topic.dlq,
            "description": f"Dead letters of {topic.value}: the original bytes; the reason in headers "
            "(x-error-class, x-error, x-source-topic, x-error-field, x-source-partition, x-source-offset).",
        }
        operations[f"receive_{topic.name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{topic.name}"},
            "messages": [{"$ref": f"#/channels/{topic.name}/messages/{name}"}],
        }
    document = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Switchboard events",
            "version": __version__,
            "description": "Every Kafka topic of Switchboard, generated from the event models "
            "(scripts/event_docs.py). JSON, UTF-8; times ISO 8601 UTC; money as decimal strings; "
            "a new version of an event is a new model and schema, never an edit in place.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
    files[DOCS / "asyncapi.yaml"] = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return files


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for path, text in render().items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(REPO)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date (run: uv run python scripts/event_docs.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
