"""How long a restarted flow-runner takes to consume again, and where that time goes.

A local Tansu, Redis and PostgreSQL and one flow-runner, as in production. Each run stops the
runner, puts one ``call.ended`` event on ``voice.call-events`` while it is down, starts it again
(``Stack.start``: spawn, wait for ``/ready``) and times, from the spawn:

- **stop_s**: SIGTERM until the old process is gone (drain, commit, leave the group);
- **ready_s**: until ``/ready`` answers 200 (imports, app, broker connected, consumer started);
- **consumed_s**: until the ``flow-runner`` group has committed that event (the consumer joined
  its group, got partitions, fetched, handled and committed: consuming again).

Also **import_s**: ``import switchboard_flow_runner.app`` in a fresh interpreter (three times),
and **join_s**: a bare aiokafka consumer subscribing to ``voice.call-events`` in a group of its
own, from ``start()`` to its first assignment, then leaving (``stop()``), six times in a row: what
the broker alone adds to a restart (no Switchboard code).

    uv run python bench/restart_to_consume.py [--runs 3]

min / median / max printed and written to ``bench/results/restart_to_consume.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import ConsumerRebalanceListener

from common import spread_by_key
from switchboard.events import CallEventType, encode
from switchboard.testing import event
from switchboard.topics import Topic
from switchboard_devstack.stack import REPO, Stack, StackConfig
from switchboard_devstack.testing import group_lag

RESULTS = REPO / "bench" / "results" / "restart_to_consume.json"


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import switchboard_flow_runner.app; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=REPO)
    return round(float(out.stdout.strip()), 3)


async def put_marker(bootstrap: str, run: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        marker = event(kind=CallEventType.CALL_ENDED, session_id=f"restart-{run}-{time.time_ns()}")
        marker = marker.model_copy(update={"call_key": f"africastalking:{marker.session_id}"})
        await producer.send_and_wait(Topic.CALL_EVENTS.value, encode(marker), key=marker.call_key.encode())
    finally:
        await producer.stop()


async def wait_consumed(bootstrap: str, deadline_s: float = 120) -> float:
    started = time.monotonic()
    while await group_lag(bootstrap, "flow-runner", Topic.CALL_EVENTS.value) > 0:
        if time.monotonic() - started > deadline_s:
            raise RuntimeError("the restarted runner did not consume within 120 s")
        await asyncio.sleep(0.05)
    return time.monotonic()


class _Assigned(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if assigned:
            self.event.set()


async def join_seconds(bootstrap: str, times: int = 6) -> list[float]:
    out = []
    for _ in range(times):
        listener = _Assigned()
        started = time.monotonic()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id="bench-join", session_timeout_ms=6000, heartbeat_interval_ms=500
        )
        consumer.subscribe([Topic.CALL_EVENTS.value], listener=listener)
        await consumer.start()
        polling = asyncio.create_task(consumer.getmany(timeout_ms=100))  # the join runs while fetching
        await asyncio.wait_for(listener.event.wait(), 120)
        out.append(round(time.monotonic() - started, 3))
        await polling
        await consumer.stop()
    return out


def one_run(stack: Stack, run: int) -> dict[str, float]:
    bootstrap = stack.config.kafka_bootstrap
    stopping = time.monotonic()
    stack.stop("flow-runner")
    stop_s = time.monotonic() - stopping
    asyncio.run(put_marker(bootstrap, run))
    ready_at: list[float] = []
    t0 = time.monotonic()
    starter = threading.Thread(target=lambda: (stack.start("flow-runner"), ready_at.append(time.monotonic())))
    starter.start()
    consumed_at = asyncio.run(wait_consumed(bootstrap))
    starter.join()
    figures = {
        "stop_s": round(stop_s, 3),
        "ready_s": round(ready_at[0] - t0, 3),
        "consumed_s": round(consumed_at - t0, 3),
    }
    print(figures, flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    imports = [import_seconds() for _ in range(3)]
    print({"import_s": imports}, flush=True)
    root = Path(tempfile.mkdtemp(prefix="sb-restart-bench-"))
    os.chmod(root, 0o755)
    stack = Stack(StackConfig.ephemeral(root, partitions=2))
    runs: list[dict[str, Any]] = []
    joins: list[float] = []
    try:
        stack.start_kafka()
        joins = asyncio.run(join_seconds(stack.config.kafka_bootstrap))
        print({"join_s": joins}, flush=True)
        stack.start_redis()
        stack.start_postgres()
        stack.migrate()
        stack.start("flow-runner")
        for run in range(args.runs):
            runs.append(one_run(stack, run))
    finally:
        stack.down()
        shutil.rmtree(root, ignore_errors=True)
    summary = {
        **spread_by_key(runs),
        **spread_by_key([{"import_s": s} for s in imports]),
        **spread_by_key([{"join_s": s} for s in joins]),
    }
    print(json.dumps(summary, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"load_average": os.getloadavg(), "summary": summary, "runs": runs, "imports": imports, "joins": joins},
            indent=2,
        )
    )
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
