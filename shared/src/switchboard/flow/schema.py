"""The JSON Schema of the flow language, generated from the action registry.

Each action's ``params`` schema comes from its ``Params`` model, so the schema and the validator
cannot drift apart. Published as ``docs/flow-language.schema.json`` (``switchboard flows schema``);
a test keeps the published file equal to this output. The schema checks shapes only; validation
(``switchboard flows validate``) also checks labels, expressions, reachability, loops and the
provider's capabilities.
"""

from __future__ import annotations

import sys
from typing import Any

from switchboard.flow.actions import REGISTRY

SCHEMA_ID = "urn:switchboard:flow-language:1"
_ACTION_LIST = {"type": "array", "items": {"$ref": "#/$defs/action"}}
_KEY_SCHEMAS: dict[str, Any] = {
    "condition": {"type": "string", "description": "expression"},
    "then": _ACTION_LIST,
    "orElse": _ACTION_LIST,
    "else": _ACTION_LIST,
    "actions": {**_ACTION_LIST, "description": "prompt: SAY or PLAY"},
    "session_data": {"type": ["object", "string"]},
    "events": {"type": "object", "additionalProperties": _ACTION_LIST},
}


def _params_schema(model: Any, defs: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(schema.pop("$defs", {}))
    schema.pop("title", None)
    return schema


def language_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    variants = []
    for kind in sorted(REGISTRY):
        spec = REGISTRY[kind]
        properties: dict[str, Any] = {
            "type": {"enum": [kind, kind.lower()]},
            "params": _params_schema(spec.Params, defs),
            "name": {"type": "string"},
            "comment": {"type": "string"},
            "comments": {"type": "string"},
        }
        for key in sorted(spec.keys):
            properties[key] = _KEY_SCHEMAS[key]
        doc = (sys.modules[spec.__class__.__module__].__doc__ or "").strip()
        variants.append(
            {
                "title": kind,
                "description": doc,
                "type": "object",
                "properties": properties,
                "required": ["type"],
                "additionalProperties": False,
            }
        )
    variants.append(
        {
            "title": "assignment (Voxology)",
            "description": '{"$name": "expression"} or {"$sessionData.name": "expression"}, with an optional '
            '"comment": a SET',
            "type": "object",
            "properties": {"comment": {"type": "string"}, "comments": {"type": "string"}},
            "patternProperties": {
                r"^\$(sessionData\.)?[A-Za-z_][A-Za-z0-9_]*$": {"type": ["string", "number", "boolean"]}
            },
            "minProperties": 1,
            # no "type", and at least one target besides the comments
            "not": {"anyOf": [{"required": ["type"]}, {"propertyNames": {"enum": ["comment", "comments"]}}]},
            "additionalProperties": False,
        }
    )
    defs["action"] = {"anyOf": variants}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Switchboard flow",
        "description": "A call flow in Switchboard's flow language (a superset of Voxology's call-flow JSON).",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "version": {"type": ["string", "number"]},
            "comment": {"type": "string"},
            "comments": {"type": "string"},
            "dialect": {
                "enum": ["switchboard", "voxology"],
                "description": "the requests REDIRECT and WEBHOOK applications expect: Switchboard's call JSON "
                "or Voxology's callback (default: voxology on Voxology calls, switchboard elsewhere)",
            },
            "timezone": {
                "type": "string",
                "description": "IANA time zone for local time in JavaScript expressions and the timeZone variable "
                "(default: the zone of the number the flow answers on, else UTC)",
            },
            "actions": _ACTION_LIST,
        },
        "required": ["actions"],
        "additionalProperties": False,
        "$defs": defs,
    }
