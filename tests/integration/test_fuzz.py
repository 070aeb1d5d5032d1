"""Fuzz the real ingress of the test stack (issue 8): every route of its OpenAPI schema, and the
providers' callback fields (Africa's Talking form fields, Voxology JSON, signed Telesign JSON; names
from ``../shared/specs/providers/*.md`` and ``switchboard.providers.*.callbacks``). Any answer is
fine except a 500 (or any 5xx but a 503 the route documents) and a dropped connection.

The bounded run (``make test``) sends a fixed number of examples per target within a time limit;
the slow run sends more for longer. Hypothesis only generates here (no shrinking): failures are
collected, counted and printed, then asserted absent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from switchboard_devstack.stack import TS_SIM_KEY, Stack

from .helpers import auth

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

NASTY = [
    "",
    " ",
    "None",
    "null",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1e20",
    "1e309",
    "-1",
    "0",
    "2" * 40,
    "1" * 5000,
    "٣",  # a non-ASCII digit
    "0x1F",
    "1_000",
    "2024-13-06+09:30:00",
    "2024-02-30+25:61:61",
    "2024-05-06+09:30:00",
    "2024-05-06T09:30:00Z",
    "9999-12-31T23:59:59+99:00",
    "+254700000001",
    "254700000001",
    "\x00",
    "\ud7ff\ue000",
    "é" * 300,
    "%ff",
    "<x/>",
    "a&b=c",
]

nasty_text = st.one_of(st.sampled_from(NASTY), st.text(max_size=40), st.integers().map(str), st.floats().map(repr))
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), nasty_text
)
json_value = st.recursive(
    json_scalar,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3),
    max_leaves=8,
)


def field(valid: list[str]) -> st.SearchStrategy[str]:
    """Mostly a value the parser gets past (so the fuzz reaches the deep fields), else nasty."""
    return st.one_of(st.sampled_from(valid), nasty_text)


AT_FIELDS: dict[str, st.SearchStrategy[str]] = {  # africastalking.md §3
    "isActive": field(["1", "0"]),
    "sessionId": field(["ATVId_fuzz1", "ATVId_fuzz2"]),
    "direction": field(["Inbound", "Outbound"]),
    "callerNumber": field(["+254700000001"]),
    "destinationNumber": field(["+254711000200"]),
    "callerCountryCode": nasty_text,
    "callStartTime": field(["2024-05-06+09:30:00"]),
    "dtmfDigits": field(["1", "12#"]),
    "recordingUrl": field(["https://example.test/a.mp3"]),
    "durationInSeconds": field(["12"]),
    "currencyCode": field(["KES"]),
    "amount": field(["0.30"]),
    "callSessionState": field(["Completed", "Ringing", "Transferred"]),
    "status": field(["Success", "Aborted"]),
    "hangupCause": field(["NORMAL_CLEARING"]),
    "callerCarrierName": nasty_text,
    "clientRequestId": nasty_text,
    "dialDestinationNumber": nasty_text,
    "dialDurationInSeconds": field(["5"]),
    "dialStartTime": field(["2024-05-06+09:30:00"]),
    "callTransferState": field(["Active", "Completed"]),
    "callTransferParam": nasty_text,
    "callTransferredToNumber": nasty_text,
}
VOX_FIELDS: dict[str, st.SearchStrategy[Any]] = {  # voxology.md §3
    "type": st.one_of(st.sampled_from(["init_call", "live_call", "end_call"]), json_value),
    "call_id": st.one_of(st.sampled_from(["vox-fuzz-1", "vox-fuzz-2"]), json_value),
    "direction": st.one_of(st.sampled_from(["inbound", "outbound"]), json_value),
    "caller_no": st.one_of(st.just("+15550000001"), json_value),
    "api_no": st.one_of(st.just("+15550000200"), json_value),
    "key_presses": st.one_of(
        st.lists(st.fixed_dictionaries({"name": json_value, "digits": field(["1", ""])}), max_size=3), json_value
    ),
    "recordings": st.one_of(st.lists(st.fixed_dictionaries({"name": json_value, "id": json_value})), json_value),
    "duration": json_value,
    "status": st.one_of(st.sampled_from(["completed", "busy", "no_answer", "failed"]), json_value),
    "start_time": st.one_of(st.just("2024-05-06T09:30:00Z"), json_value),
    "session_data": json_value,
    "sb_call_id": json_value,
}
TS_DATA: dict[str, st.SearchStrategy[Any]] = {  # telesign.md §4
    "to": st.one_of(st.just("15550000920"), json_value),
    "from": st.one_of(st.just("15550000001"), json_value),
    "collected_digits": st.one_of(st.just("1"), json_value),
    "status": st.one_of(st.sampled_from(["answered", "completed", "busy", "no_answer", "failed"]), json_value),
    "duration": json_value,
    "answered_on_utc": st.one_of(st.just("2024-05-06T09:30:00Z"), json_value),
}
TS_EVENTS = ["incoming_call", "call_completed", "dial_completed", "speak_completed", "play_completed", "hangup"]


def key(valid: list[Any]) -> st.SearchStrategy[Any]:
    """A field the parser needs: four times in five a valid value, so most requests get past it."""
    good = st.sampled_from(valid)
    return st.one_of(good, good, good, good, json_value)


def some_of(
    fields: dict[str, st.SearchStrategy[Any]], required: dict[str, st.SearchStrategy[Any]] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """``required`` (mostly valid) and a subset of ``fields``, plus now and then an unknown field."""
    required = required or {}
    optional = {k: v for k, v in fields.items() if k not in required}
    return st.fixed_dictionaries(required, optional=optional).flatmap(
        lambda d: st.dictionaries(st.text(max_size=10), nasty_text, max_size=2).map(lambda extra: {**extra, **d})
    )


def at_key(valid: list[str]) -> st.SearchStrategy[str]:
    good = st.sampled_from(valid)
    return st.one_of(good, good, good, good, nasty_text)


AT_REQUIRED = {
    "isActive": at_key(["1", "0"]),
    "sessionId": at_key(["ATVId_fuzz1", "ATVId_fuzz2", "ATVId_fuzz3"]),
    "direction": at_key(["Inbound", "Outbound"]),
    "callerNumber": at_key(["+254700000001"]),
    "destinationNumber": at_key(["+254711000200"]),
}
VOX_REQUIRED = {
    "type": key(["init_call", "live_call", "end_call"]),
    "call_id": key(["vox-fuzz-1", "vox-fuzz-2"]),
    "caller_no": key(["+15550000001"]),
    "api_no": key(["+15550000200"]),
}


fuzz_query = st.fixed_dictionaries(
    {}, optional={"fallback": nasty_text, "retry_of": nasty_text, "account": field(["default", "ke-ops"])}
)


class Target:
    """A request strategy and the routes it covers."""

    def __init__(self, name: str, requests: st.SearchStrategy[dict[str, Any]]) -> None:
        self.name = name
        self.requests = requests


def at_target(stack: Stack) -> Target:
    urls = [stack.config.callback_url, stack.config.events_url]
    return Target(
        "africastalking",
        st.fixed_dictionaries(
            {
                "method": st.just("POST"),
                "url": st.sampled_from(urls),
                "params": fuzz_query,
                "data": some_of(AT_FIELDS, AT_REQUIRED),
            }
        ),
    )


def vox_target(stack: Stack) -> Target:
    def encode(body: Any) -> bytes:
        return json.dumps(body, allow_nan=True).encode()  # NaN/Infinity literals as a sloppy sender writes

    body = st.one_of(some_of(VOX_FIELDS, VOX_REQUIRED), json_value).map(encode)
    return Target(
        "voxology",
        st.fixed_dictionaries(
            {
                "method": st.just("POST"),
                "url": st.just(stack.config.vox_callback_url),
                "params": fuzz_query,
                "content": body,
                "headers": st.just({"content-type": "application/json"}),
            }
        ),
    )


def ts_target(stack: Stack) -> Target:
    def signed(event: Any) -> dict[str, Any]:
        raw = json.dumps(event, allow_nan=True).encode()
        sig = base64.b64encode(hmac.new(base64.b64decode(TS_SIM_KEY), raw, hashlib.sha256).digest()).decode()
        return {"content": raw, "headers": {"content-type": "application/json", "authorization": f"TSA x:{sig}"}}

    event = st.one_of(
        st.fixed_dictionaries(
            {
                "event": key(TS_EVENTS),
                "reference_id": key(["TSREF1", "TSREF2"]),
                "data": st.one_of(some_of(TS_DATA), json_value),
            },
            optional={"external_id": json_value},
        ),
        json_value,
    )
    return Target(
        "telesign",
        st.builds(
            lambda body, params: {"method": "POST", "url": stack.config.ts_callback_url, "params": params, **body},
            event.map(signed),
            fuzz_query,
        ),
    )


def from_schema(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for an OpenAPI 3.1 ``schema`` (``$ref``, ``anyOf``, objects, strings with their
    lengths, numbers, booleans, arrays), valid or nearly: enough to reach past validation."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return from_schema(components["schemas"][name], components, depth + 1)
    if "anyOf" in schema or "oneOf" in schema:
        return st.one_of([from_schema(s, components, depth + 1) for s in schema.get("anyOf", schema.get("oneOf"))])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "object" and depth < 4:
        props = {k: from_schema(v, components, depth + 1) for k, v in schema.get("properties", {}).items()}
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: v for k, v in props.items() if k in required},
            optional={k: v for k, v in props.items() if k not in required},
        )
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), components, depth + 1), max_size=3)
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 40)
        phone = st.from_regex(r"\+2547[0-9]{8}", fullmatch=True)
        return st.one_of(st.text(min_size=low, max_size=min(high, 60)), phone, nasty_text)
    if kind == "integer":
        return st.integers()
    if kind == "number":
        return st.floats(allow_nan=True, allow_infinity=True)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return json_value


def path_segment(value: str) -> str:
    """``value`` as one percent-encoded path segment (never empty)."""
    return quote(value, safe="") or "x"


def header_value(value: str) -> str:
    """``value`` as a header value httpx will send (printable ASCII, one line, no whitespace at
    either end: h11 refuses to send ``' '``)."""
    return "".join(c if " " <= c <= "~" else "?" for c in value)[:200].strip() or "?"


def api_target(name: str, base: str, openapi: dict[str, Any], auth: dict[str, str] | None = None) -> Target:
    """Every route of a service's OpenAPI schema (at ``base``) but the provider callbacks (fuzzed above with
    their providers' fields): path, query and header parameters and JSON bodies from the schema,
    and, as often, arbitrary JSON in their place."""
    components = openapi.get("components", {})

    def schema_of(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        return from_schema(schema, components)

    def as_str(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    routes = []
    for path, ops in openapi["paths"].items():
        if path.startswith(("/providers/", "/voice/instruct", "/voice/events")):
            continue
        for method, op in ops.items():
            params = {p["name"]: (p["in"], p.get("schema", {})) for p in op.get("parameters", [])}
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")

            def one(path: str = path, method: str = method, params=params, body=body):  # type: ignore[no-untyped-def]
                values = {
                    name: st.one_of(schema_of(schema).map(as_str), nasty_text) for name, (_, schema) in params.items()
                }
                parts = st.fixed_dictionaries({}, optional=values)
                content = st.one_of(schema_of(body), json_value) if body else st.none()

                def build(chosen: dict[str, str], payload: Any) -> dict[str, Any]:
                    url = path
                    query, headers = {}, {"content-type": "application/json", **(auth or {})}
                    for name, value in chosen.items():
                        where = params[name][0]
                        if where == "path":
                            url = url.replace("{" + name + "}", path_segment(value))
                        elif where == "query":
                            query[name] = value
                        elif where == "header":
                            headers[name] = header_value(value)
                    url = url.replace("{", "").replace("}", "")
                    req: dict[str, Any] = {"method": method.upper(), "url": base + url, "params": query}
                    req["headers"] = headers
                    if body is not None:
                        req["content"] = json.dumps(payload, allow_nan=True).encode()
                    return req

                return st.builds(build, parts, content)

            routes.append(one())
    return Target(name, st.one_of(routes))


def fuzz(target: Target, examples: int, budget_s: float) -> dict[str, Any]:
    """Send up to ``examples`` requests of ``target`` within ``budget_s``; count what came back."""
    statuses: Counter[int] = Counter()
    failures: list[tuple[str, str]] = []
    dropped: list[tuple[str, str]] = []
    sent = 0
    stop_at = time.monotonic() + budget_s
    client = httpx.Client(timeout=15)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(target.requests)
    def one(req: dict[str, Any]) -> None:
        nonlocal sent
        if time.monotonic() > stop_at:
            return
        sent += 1
        try:
            r = client.request(**req)
        except httpx.TransportError as exc:
            dropped.append((repr(req)[:1500], repr(exc)))
            return
        statuses[r.status_code] += 1
        if r.status_code >= 500 and r.status_code != 503:
            failures.append((repr(req)[:1500], f"{r.status_code} {r.text[:300]}"))

    try:
        one()
    finally:
        client.close()
    return {"sent": sent, "statuses": dict(statuses), "failures": failures, "dropped": dropped}


def schema(base: str) -> dict[str, Any]:
    return dict(httpx.get(f"{base}/openapi.json").json())


TARGETS: dict[str, Callable[[Stack], Target]] = {
    # the public control API (with the local tenant's key, so requests reach validation)
    "api": lambda stack: api_target("api", stack.config.api_url, schema(stack.config.api_url), auth(stack)),
    "ingress": lambda stack: api_target("ingress", stack.config.ingress_url, schema(stack.config.ingress_url)),
    "africastalking": at_target,
    "voxology": vox_target,
    "telesign": ts_target,
}


@pytest.mark.parametrize(
    ("examples", "budget_s"),
    [pytest.param(150, 25, id="bounded"), pytest.param(3000, 120, id="long", marks=pytest.mark.slow)],
)
@pytest.mark.parametrize("name", list(TARGETS))
def test_fuzz_no_500_no_dropped_connection(stack: Stack, name: str, examples: int, budget_s: float) -> None:
    result = fuzz(TARGETS[name](stack), examples, budget_s)
    for request, problem in [*result["failures"], *result["dropped"]]:
        print(f"\nFUZZ FAILURE {name}: {request}\n  -> {problem}")
    five = sum(n for s, n in result["statuses"].items() if s >= 500 and s != 503)
    print(
        f"\nFAULTS fuzz[{name}]: sent={result['sent']} 5xx={five} dropped={len(result['dropped'])} "
        f"statuses={sorted(result['statuses'].items())}"
    )
    assert result["sent"] > 0
    assert not result["failures"], result["failures"][:5]
    assert not result["dropped"], result["dropped"][:5]
