"""One error shape on every service: each route's OpenAPI lists its error statuses as problem+json,
and the answers themselves are problem+json (no stack needed: the apps are built, not started)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from switchboard_api.app import build_app as api_app
from switchboard_cdr_sink.app import build_app as sink_app
from switchboard_dialer.app import build_app as dialer_app
from switchboard_flow_runner.app import build_app as runner_app
from switchboard_ingress.app import build_app as ingress_app

APPS = {
    "webhook-ingress": ingress_app,
    "api": api_app,
    "flow-runner": runner_app,
    "dialer": dialer_app,
    "cdr-sink": sink_app,
}


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


@pytest.mark.parametrize(
    ("build", "path"), [(api_app, "/v1/calls"), (ingress_app, "/providers/voxology/callback")], ids=["api", "ingress"]
)
@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_cap_is_413_before_parsing(chunked, build, path):
    """Before the key check too: an anonymous 2 MiB body is refused by size, not read."""
    app = build()
    big = b'{"to": "+254700000001", "flow": "' + b"x" * (2 << 20) + b'"}'
    content = iter([big[i : i + 65536] for i in range(0, len(big), 65536)]) if chunked else big
    r = TestClient(app).post(path, content=content, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:switchboard:problem:payload-too-large"


def test_too_many_form_fields_is_400_naming_the_body():
    app = ingress_app()
    form = "&".join(f"f{i}=1" for i in range(500))
    r = TestClient(app).post(
        "/providers/africastalking/callback",
        content=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400 and r.json()["field"] == "body"


@pytest.mark.parametrize("url", ["/v1/campaigns/%00/cancel", "/v1/calls?flow=a%00b", "/v1/calls/%00"])
def test_a_nul_in_the_url_is_400_before_any_route(url):
    """U+0000 fits no identifier or filter (PostgreSQL text refuses it): refused in one place, before
    the key check, never a 500 from the database (the fuzz test found one per route)."""
    r = TestClient(api_app()).post(url) if url.endswith("cancel") else TestClient(api_app()).get(url)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", r.text
    assert "U+0000" in r.json()["detail"]
