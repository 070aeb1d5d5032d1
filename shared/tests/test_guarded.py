"""run_guarded: transient failures are retried in place, not dead-lettered; bugs are, after a few
tries; records that can never succeed go to the DLQ at once."""

from __future__ import annotations

from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from switchboard.errors import InvalidEvent
from switchboard.kafka import run_guarded


class Recorder:
    """Captures what run_guarded publishes (only the dead-letter topic is ever published to)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, body: bytes, topic: str, *, key: bytes | None, headers: dict[str, str]) -> None:
        self.published.append((topic, headers))


def failing(errors: list[BaseException]):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    async def handle() -> None:
        calls["n"] += 1
        if errors:
            raise errors.pop(0)

    return handle, calls


async def guarded(broker: Recorder, handle, **kw: Any) -> None:  # type: ignore[no-untyped-def]
    await run_guarded(broker, "voice.call-events", body=b"{}", key=b"k", handle=handle, **kw)  # type: ignore[arg-type]


async def test_a_redis_outage_is_retried_past_max_retries_and_nothing_is_dead_lettered():
    broker = Recorder()
    handle, calls = failing([RedisConnectionError("down")] * 5)
    await guarded(broker, handle, max_retries=2, transient_retry_s=30)
    assert calls["n"] == 6 and broker.published == []


async def test_a_transient_failure_that_outlasts_the_bound_is_dead_lettered_once():
    broker = Recorder()
    handle, calls = failing([TimeoutError("frozen")] * 1000)
    await guarded(broker, handle, max_retries=2, transient_retry_s=0.3)
    assert calls["n"] > 3
    assert [(t, h["x-error-class"]) for t, h in broker.published] == [("voice.call-events.dlq", "TimeoutError")]


async def test_a_bug_is_tried_max_retries_times_then_dead_lettered():
    broker = Recorder()
    handle, calls = failing([RuntimeError("bug")] * 10)
    await guarded(broker, handle, max_retries=2, transient_retry_s=30)
    assert calls["n"] == 3 and broker.published[0][1]["x-error-class"] == "RuntimeError"


@pytest.mark.parametrize("error", [InvalidEvent("bad", field="digits")])
async def test_an_invalid_event_goes_to_the_dlq_at_once(error):
    broker = Recorder()
    handle, calls = failing([error])
    await guarded(broker, handle, max_retries=5, transient_retry_s=30)
    assert calls["n"] == 1 and broker.published[0][1]["x-error-field"] == "digits"
