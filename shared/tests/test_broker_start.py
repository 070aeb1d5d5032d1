"""``switchboard.kafka.Broker`` starts its subscribers together: each one's start waits for its
consumer group to form (seconds on Tansu), so one after another a four-group dialer took four."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.kafka import make_broker
from switchboard.settings import ServiceSettings


async def test_every_subscriber_starts_at_once_then_the_publishers(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = make_broker(ServiceSettings(kafka_bootstrap="127.0.0.1:9"), client_id="test")
    for group in ("a", "b", "c"):
        broker.subscriber(f"topic-{group}", group_id=group)(lambda: None)
    broker.publisher("out")
    in_start, most, order = 0, 0, []
    all_in = asyncio.Event()

    async def connect() -> None:
        order.append("connect")

    async def start(name: str) -> None:
        nonlocal in_start, most
        in_start += 1
        most = max(most, in_start)
        if in_start == 3:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), 5)  # a group forming: the others must not wait on it
        in_start -= 1
        order.append(name)

    monkeypatch.setattr(broker, "connect", connect)
    for i, sub in enumerate(broker.subscribers):
        monkeypatch.setattr(sub, "start", lambda i=i: start(f"sub{i}"))

    async def publisher_start() -> None:
        order.append("pub")

    for pub in broker.publishers:
        monkeypatch.setattr(pub, "start", publisher_start)

    await broker.start()
    assert most == 3 and broker.running
    assert order[0] == "connect" and sorted(order[1:4]) == ["sub0", "sub1", "sub2"] and order[4:] == ["pub"]


async def test_a_subscriber_that_cannot_start_stops_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = make_broker(ServiceSettings(kafka_bootstrap="127.0.0.1:9"), client_id="test")
    for group in ("a", "b"):
        broker.subscriber(f"topic-{group}", group_id=group)(lambda: None)
    cancelled, stopped = [], []

    async def connect() -> None:
        return None

    async def joining() -> None:
        try:
            await asyncio.sleep(30)  # a group still forming
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def refused() -> None:
        raise RuntimeError("group authorization failed")

    async def stop(*args: object, **kwargs: object) -> None:
        stopped.append(True)

    monkeypatch.setattr(broker, "connect", connect)
    monkeypatch.setattr(broker, "stop", stop)
    first, second = broker.subscribers
    monkeypatch.setattr(first, "start", joining)
    monkeypatch.setattr(second, "start", refused)
    with pytest.raises(RuntimeError, match="authorization"):
        await asyncio.wait_for(broker.start(), 5)
    assert cancelled == [True] and stopped == [True] and not broker.running
