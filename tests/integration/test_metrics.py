"""``GET /metrics`` on the running stack (issue 14): the counters move with real traffic."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .helpers import auth, sim_call, wait_cdr, wait_for

pytestmark = pytest.mark.integration


async def scrape(http, url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = await http.get(f"{url}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text[:200]
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


async def test_metrics_count_callbacks_dials_and_cdrs(stack, http):
    ingress, sink = stack.config.ingress_url, stack.config.url(stack.config.sink_port)
    dialer = stack.config.url(stack.config.dialer_port)
    reply = ("switchboard_callbacks_total", (("provider", "africastalking"), ("result", "reply")))
    written = ("switchboard_cdrs_written_total", ())
    before_ingress, before_sink = await scrape(http, ingress), await scrape(http, sink)
    caller = f"+2547{uuid.uuid4().int % 10**8:08d}"
    r = await http.post(f"{stack.config.sim_url}/sim/inbound", json={"caller": caller, "to": "+254711000200"})
    call = await sim_call(http, stack, r.json()["session_id"])
    await wait_cdr(stack, f"africastalking:{call['session_id']}")
    after_ingress, after_sink = await scrape(http, ingress), await scrape(http, sink)
    assert after_ingress[reply] > before_ingress.get(reply, 0)
    count = ("switchboard_callback_seconds_count", (("provider", "africastalking"),))
    assert after_ingress[count] > before_ingress.get(count, 0)
    assert after_sink[written] >= before_sink.get(written, 0) + 1
    assert ("switchboard_dial_pacing_seconds_count", ()) in await scrape(http, dialer)
    # live calls per account, from the dialer's leases: up while an outbound call rings, down after
    # (on the second Africa's Talking account, so other tests' calls on the default one do not count)
    live = ("switchboard_live_calls", (("account", "ke-ops"), ("provider", "africastalking")))
    before = (await scrape(http, dialer)).get(live, 0)
    phone = f"+2547{uuid.uuid4().int % 10**8:08d}"
    await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": "no-answer", "ring_s": 200})
    r = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers=auth(stack),
        json={"to": phone, "flow": "survey", "account": "ke-ops"},
    )
    assert r.status_code == 200, r.text

    async def ringing():  # type: ignore[no-untyped-def]
        return (await scrape(http, dialer)).get(live, 0) >= before + 1 or None

    await wait_for(ringing, 4)  # the call rings 4 s (200 simulated s at speed 50)
    await wait_cdr(stack, r.json()["call_key"])

    async def ended():  # type: ignore[no-untyped-def]
        return (await scrape(http, dialer)).get(live, 0) <= before or None

    await wait_for(ended, 10)
    # FastStream's Prometheus middleware on every broker: messages processed per handler
    runner = await scrape(http, stack.config.url(stack.config.runner_port))
    processed = [
        value
        for (name, labels), value in runner.items()
        if name == "faststream_received_processed_messages_total"
        and dict(labels).get("app_name") == "flow-runner"
        and dict(labels).get("handler") == "voice.call-events"
    ]
    assert processed and sum(processed) >= 1, sorted({name for name, _ in runner if name.startswith("faststream")})
