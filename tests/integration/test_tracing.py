"""Tracing on the running stack (issue 14, item 5): one trace from a provider callback's arrival
at the ingress, through Kafka (the context in the record's headers), to the runner's turn and
reply, every span naming the call; and the services' log lines carry the trace id."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from .helpers import sim_call, wait_cdr, wait_for

pytestmark = pytest.mark.integration


def all_spans(stack: Any) -> list[dict[str, Any]]:
    """Every span the stack's services have written (one JSON object per line, SB_TRACE_FILE)."""
    with open(stack.config.extra_env["SB_TRACE_FILE"], "rb") as lines:
        return [orjson.loads(line) for line in lines if line.strip()]


def spans_of(stack: Any, call_key: str) -> list[dict[str, Any]]:
    return [s for s in all_spans(stack) if s["attributes"].get("switchboard.call_key") == call_key]


def service_of(span: dict[str, Any]) -> str:
    return span["resource"]["attributes"]["service.name"]


async def test_a_callback_is_one_trace_from_the_ingress_through_kafka_to_the_runners_reply(stack, http):
    caller = f"+2547{uuid.uuid4().int % 10**8:08d}"
    r = await http.post(f"{stack.config.sim_url}/sim/inbound", json={"caller": caller, "to": "+254711000200"})
    call = await sim_call(http, stack, r.json()["session_id"])
    call_key = f"africastalking:{call['session_id']}"
    await wait_cdr(stack, call_key)

    def turns() -> list[dict[str, Any]]:
        return [s for s in spans_of(stack, call_key) if s["name"] == "flow.reply"]

    async def replied() -> list[dict[str, Any]]:
        return turns()

    await wait_for(replied, timeout_s=10)
    spans = spans_of(stack, call_key)
    by_id = {s["context"]["span_id"]: s for s in all_spans(stack)}
    reply = turns()[0]
    trace_id = reply["context"]["trace_id"]
    same_trace = [s for s in spans if s["context"]["trace_id"] == trace_id]
    # the reply's ancestors, walked up through parent ids: runner turn → Kafka process → Kafka
    # publish at the ingress → the ingress's HTTP server span, where the callback arrived
    chain, span = [], reply
    while span is not None:
        chain.append((service_of(span), span["kind"], span["name"]))
        span = by_id.get(span["parent_id"] or "")
    assert chain[0] == ("flow-runner", "SpanKind.INTERNAL", "flow.reply"), chain
    assert ("flow-runner", "SpanKind.CONSUMER") in {(svc, kind) for svc, kind, _ in chain}, chain
    assert ("webhook-ingress", "SpanKind.PRODUCER") in {(svc, kind) for svc, kind, _ in chain}, chain
    assert chain[-1][:2] == ("webhook-ingress", "SpanKind.SERVER"), chain
    assert "POST" in chain[-1][2]
    assert any(s["name"] == "flow.turn" for s in same_trace)
    # the runner's log lines about this call (JSON, like every line) name the trace they were in
    lines = [orjson.loads(line) for line in (stack.logs / "flow-runner.log").read_bytes().splitlines()]
    logged = {line["trace_id"] for line in lines if line.get("call_key") == call_key and "trace_id" in line}
    assert logged and logged <= {s["context"]["trace_id"].removeprefix("0x") for s in spans}, logged
