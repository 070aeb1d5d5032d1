"""The api's OpenAPI document is built and serialisable with every route (a response model left as
a class in it breaks /openapi.json, the docs page and the fuzz tests at once); the console's
routes stay out of it."""

from __future__ import annotations

import json

from switchboard_api.app import build_app


def test_the_openapi_document_serialises_and_lists_the_routes() -> None:
    spec = json.loads(json.dumps(build_app().openapi()))
    paths = set(spec["paths"])
    assert {"/v1/flows", "/v1/flows/{name}", "/v1/flows/validate", "/v1/campaigns", "/v1/calls"} <= paths
    assert not any(path.startswith("/console") for path in paths)
