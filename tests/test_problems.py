"""One error shape on every service: each route's OpenAPI lists its error statuses as problem+json,
and the answers themselves are problem+json (no stack needed: the apps are built, not started)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from switchboard_cdr_sink.app import build_app as sink_app
from switchboard_dialer.app import build_app as dialer_app
from switchboard_flow_runner.app import build_app as runner_app
from switchboard_ingress.app import build_app as ingress_app

APPS = {"webhook-ingress": ingress_app, "flow-runner": runner_app, "dialer": dialer_app, "cdr-sink": sink_app}


@pytest.fixture(scope="module", params=list(APPS))
def app(request, tmp_path_factory) -> FastAPI:
    return APPS[request.param]()


def test_every_error_status_in_openapi_is_a_problem(app):
    spec = app.openapi()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            for status, answer in op["responses"].items():
                if not status.startswith(("4", "5")) or path == "/ready":
                    continue
                content = answer.get("content", {})
                assert "application/problem+json" in content, f"{method.upper()} {path} {status}: {content}"
                assert content["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
            assert (
                "422" not in op["responses"]
                or "unprocessable" in str(op["responses"]["422"]).lower()
                or ("Cannot be carried out" in op["responses"]["422"]["description"])
            ), f"{method.upper()} {path}: FastAPI's default 422 left in place"


def test_an_unknown_route_is_a_problem(app):
    r = TestClient(app).get("/no/such/route")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert r.json() == {
        "type": "urn:switchboard:problem:not-found",
        "title": "Not found",
        "status": 404,
        "detail": "Not Found",
        "instance": "/no/such/route",
    }
