"""How long each service takes from SIGTERM to ready again: a rolling upgrade's step, per pod.

A local stack on free ports (Tansu, Redis, PostgreSQL, every service; topics of 8 partitions);
each service is restarted ``--runs`` times (``Stack.restart``: SIGTERM, drain and exit, spawn,
then ``/ready`` answering 200). A consumer's ``/ready`` answers only once its broker has started,
that is once every consumer group of the service has formed (``switchboard.kafka.Broker`` starts
them together). Seconds, wall clock, on whatever else the machine is doing.

    uv run python bench/restart_to_ready.py [--runs 3]

Prints one line per service and the min / median / max, and writes
``bench/results/restart_to_ready.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from common import spread
from switchboard_devstack.stack import SERVICES, Stack, StackConfig

RESULTS = Path(__file__).parent / "results" / "restart_to_ready.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle-s", type=float, default=4.0, help="pause after each restart (s)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sb-bench-restart-"))
    os.chmod(root, 0o755)
    stack = Stack(StackConfig.ephemeral(root, partitions=8))
    stack.up()
    results: dict[str, dict[str, object]] = {}
    try:
        time.sleep(args.settle_s)
        for name in (s for s in SERVICES if s != "provider-sim"):
            seconds = []
            for _ in range(args.runs):
                t0 = time.monotonic()
                stack.restart(name)
                seconds.append(round(time.monotonic() - t0, 2))
                time.sleep(args.settle_s)
            results[name] = {"runs_s": seconds, **spread(seconds)}
            print(name, json.dumps(results[name]), flush=True)
    finally:
        stack.down()
        shutil.rmtree(root, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"broker": "tansu", "services": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
