"""How long the local broker keeps a consumer group without partitions during a rebalance.

A consumer of group ``bench-rebalance`` on ``voice.dial-requests`` owns its partitions; a second
member joins, later leaves (``LeaveGroup``), and the first member's time from "partitions revoked" to
"partitions assigned" is taken each time (aiokafka's ``ConsumerRebalanceListener``). While revoked,
a member consumes nothing: for the dialer this is a pause in placing calls whenever a replica dies,
starts or leaves (``docs/benchmarks.md``, the kill runs of ``bench/dialer_pacing.py``).

Apache Kafka completes such a rebalance as soon as every live member has rejoined (the initial
rebalance delay applies only to an empty group); this measures Tansu, the local broker.

    uv run python bench/rebalance_hold.py [--runs 3]

Prints one line per run and the min / median / max, and writes ``bench/results/rebalance_hold.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.abc import ConsumerRebalanceListener

from common import spread_by_key
from switchboard.topics import Topic
from switchboard_devstack.testing import tansu_process

RESULTS = Path(__file__).parent / "results" / "rebalance_hold.json"


class Timeline(ConsumerRebalanceListener):  # type: ignore[misc]
    """Records when the member's partitions were revoked and when they came back."""

    def __init__(self) -> None:
        self.revoked_at: float | None = None
        self.holds_s: list[float] = []

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.revoked_at = time.monotonic()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if self.revoked_at is not None and assigned:
            self.holds_s.append(time.monotonic() - self.revoked_at)
        self.revoked_at = None


async def member(
    bootstrap: str, group: str, listener: Timeline | None = None
) -> tuple[AIOKafkaConsumer, asyncio.Task[None]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, session_timeout_ms=6000, heartbeat_interval_ms=500
    )
    consumer.subscribe([Topic.DIAL_REQUESTS.value], listener=listener or Timeline())
    await consumer.start()

    async def poll() -> None:
        while True:
            await consumer.getmany(timeout_ms=100)

    return consumer, asyncio.create_task(poll())


async def one_run(bootstrap: str, run: int) -> dict[str, float]:
    group = f"bench-rebalance-{run}-{time.time_ns()}"
    timeline = Timeline()
    first, first_poll = await member(bootstrap, group, timeline)
    await asyncio.sleep(4)  # the group's first assignment
    timeline.holds_s.clear()
    second, second_poll = await member(bootstrap, group)
    await asyncio.sleep(6)
    joined = timeline.holds_s[-1] if timeline.holds_s else float("nan")
    second_poll.cancel()
    await second.stop()  # LeaveGroup
    await asyncio.sleep(6)
    left = timeline.holds_s[-1] if len(timeline.holds_s) > 1 else float("nan")
    first_poll.cancel()
    await first.stop()
    return {"hold_on_join_s": round(joined, 3), "hold_on_leave_s": round(left, 3)}


async def main(args: argparse.Namespace, bootstrap: str) -> None:
    runs = []
    for i in range(args.runs):
        figures = await one_run(bootstrap, i)
        print(f"run {i + 1}", json.dumps(figures), flush=True)
        runs.append(figures)
    summary = spread_by_key(runs)
    print("min/median/max:", json.dumps(summary))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"broker": "tansu", "runs": runs, "summary": summary}, indent=2) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    with tansu_process() as config:
        asyncio.run(main(arguments, config.kafka_bootstrap))
