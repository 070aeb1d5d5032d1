"""Status callbacks on the real stack: a call placed through the api with a ``status_callback``
has its progress POSTed by the notifier to a receiver in this test process (127.0.0.1), signed,
in order, retried until the receiver recovers, dead-lettered when it never does, and a slow
receiver never holds the call up."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from fastapi import FastAPI, Request, Response

from switchboard import status_callbacks as sc
from switchboard_devstack import testing

from .helpers import auth, read_topic, wait_cdr, wait_for

pytestmark = pytest.mark.integration

ALL = ["initiated", "ringing", "answered", "completed"]


def number() -> str:
    return f"+2547{uuid.uuid4().int % 10**8:08d}"


class Receiver:
    """A customer's server: ``/flaky`` refuses each event's first two tries with 503, ``/down``
    always answers 503, ``/slow`` takes ``slow_s`` before answering 200."""

    def __init__(self) -> None:
        self.tries: list[dict[str, Any]] = []  # every request, in arrival order
        self.slow_s = 0.0

    def delivered(self, call_id: str) -> list[dict[str, Any]]:
        return [t for t in self.tries if t["ok"] and t["body"]["call_id"] == call_id]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{mode}")
        async def hook(mode: str, request: Request) -> Response:
            raw = await request.body()
            body = orjson.loads(raw)
            earlier = [t for t in self.tries if t["body"]["call_id"] == body["call_id"] and t["event"] == body["event"]]
            if mode == "slow":
                await asyncio.sleep(self.slow_s)
            ok = mode == "slow" or (mode == "flaky" and len(earlier) >= 2)
            self.tries.append({"event": body["event"], "body": body, "raw": raw, "headers": request.headers, "ok": ok})
            return Response(status_code=200 if ok else 503)

        return app


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    r = Receiver()
    async with testing.serve(r.app()) as url:
        yield r, url


async def place(stack: Any, http: Any, url: str, events: list[str] = ALL) -> dict[str, Any]:
    phone = number()
    await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": "answer", "digits": ["4"]})
    r = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers=auth(stack),
        json={"to": phone, "flow": "survey", "status_callback": {"url": url, "events": events}},
    )
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


async def test_a_receiver_that_fails_at_first_gets_each_event_once_in_order_and_signed(stack, http):
    key = (await http.get(f"{stack.config.api_url}/v1/status-callbacks/key", headers=auth(stack))).json()["key"]
    async with receiver() as (rcv, url):
        call = await place(stack, http, f"{url}/flaky")
        await wait_cdr(stack, call["call_key"])

        async def all_delivered() -> list[dict[str, Any]] | None:
            got = rcv.delivered(call["call_id"])
            return got if got and got[-1]["event"] == "completed" else None

        delivered = await wait_for(all_delivered, 60, 0.2)
    events = [d["event"] for d in delivered]
    # the simulated Africa's Talking call rings (a Ringing callback), is answered and completes
    assert events == ALL, events
    for event in events:  # two refusals each, then the delivery
        assert [t["ok"] for t in rcv.tries if t["event"] == event and t["body"]["call_id"] == call["call_id"]] == [
            False,
            False,
            True,
        ]
    for d in delivered:
        h = d["headers"]
        assert sc.verify(key, h[sc.TIMESTAMP_HEADER], h[sc.SIGNATURE_HEADER], d["raw"])
        assert not sc.verify(key, h[sc.TIMESTAMP_HEADER], h[sc.SIGNATURE_HEADER], d["raw"] + b" ")
    completed = delivered[-1]["body"]
    assert completed["call_key"] == call["call_key"] and completed["cdr"]["status"] == "completed"
    assert completed["to"] == completed["cdr"]["caller_number"]  # the person called
    # each delivery is also on voice.status-callbacks, keyed by the call
    records = await read_topic(stack, "voice.status-callbacks", key=call["call_key"].encode())
    assert sorted(orjson.loads(r.value)["event"] for r in records) == sorted(events)


async def test_a_receiver_that_never_recovers_ends_in_the_dead_letter_topic(stack, http):
    async with receiver() as (rcv, url):
        call = await place(stack, http, f"{url}/down", events=["initiated", "completed"])

        async def dead_lettered() -> list[Any] | None:
            records = await read_topic(stack, "voice.status-callbacks.dlq", key=call["call_key"].encode(), idle_s=0.5)
            return records if len(records) == 2 else None

        records = await wait_for(dead_lettered, 60, 1.0)
    assert [orjson.loads(r.value)["event"] for r in records] == ["initiated", "completed"]
    headers = {k: v.decode() for k, v in records[0].headers}
    assert headers["x-http-status"] == "503" and headers["x-url"] == f"{url}/down"
    assert int(headers["x-attempts"]) >= 2
    tries = [t for t in rcv.tries if t["body"]["call_id"] == call["call_id"]]
    assert tries and not any(t["ok"] for t in tries)


async def test_a_slow_receiver_never_holds_the_call_up(stack, http):
    async with receiver() as (rcv, url):
        rcv.slow_s = 30.0  # longer than the notifier waits (SB_NOTIFY_TIMEOUT_S) and than the call
        call = await place(stack, http, f"{url}/slow", events=["initiated", "answered", "completed"])
        row = await wait_cdr(stack, call["call_key"], timeout_s=30)
        assert row["status"] == "completed" and row["inputs"]  # the flow ran to its end
        assert not rcv.delivered(call["call_id"])  # while no callback had been answered yet
