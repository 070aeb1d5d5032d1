"""Benchmark: the dialer's pacing and live-call cap across two replicas, measured at the provider.

Starts its own local stack on free ports (four partitions) with a second dialer replica
(``Stack.start_replica("dialer")``) and one Africa's Talking account ``bench`` limited to
``--cps`` calls per second and ``--concurrent`` live calls. Each run publishes ``--calls``
DialRequests on ``voice.dial-requests`` at once (as the campaign scheduler does), every number
scripted at the simulator to answer and hang up after ``--call-s`` simulated seconds. Measured at
the simulator (when each ``POST /call`` arrived), not at the dialer:

- the most calls that arrived in any rolling 1 s window (half-open ``[t, t + 1 s)``);
- the mean rate, ``(n - 1) / (last - first)``;
- the most live calls, sampled every 100 ms (the simulator's calls not ended yet, ringing or
  answered; the account's lease set alongside);
- whether every request was dialled exactly once (per number, at the simulator).

Then the same runs with the replica killed (SIGKILL, by PID) ``--kill-after`` seconds in; a new
replica is started for the next run. Time: ``SIM_SPEED`` = ``--speed`` (simulated seconds per real
second): at real time a 5 s call plus its ring holds a slot ~6 s and 20 slots carry at most ~3
calls/s, so the 10/s rate and the 20-call cap can only both hold when a call lasts under 2 s of
real time (see docs/dialer.md).

Results: printed (min/median/max over the runs) and written to ``bench/results/dialer_pacing.json``.

    uv run python bench/dialer_pacing.py [--runs 3] [--calls 600] [--cps 10] [--concurrent 20] [--speed 5]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from switchboard.events import DialRequest, encode
from switchboard.redis import lease_key
from switchboard.topics import Topic
from switchboard_devstack.stack import REPO, Stack, StackConfig

RESULTS = REPO / "bench" / "results" / "dialer_pacing.json"
ACCOUNT = "bench"


def max_in_window(times: list[float], window_s: float = 1.0) -> int:
    """The most of ``times`` (sorted) in any half-open window ``[t, t + window_s)``."""
    return max((bisect.bisect_left(times, t + window_s) - i for i, t in enumerate(times)), default=0)


async def one_run(stack: Stack, args: argparse.Namespace, *, kill: str | None) -> dict[str, Any]:
    c = stack.config
    run_id = uuid.uuid4().hex[:8]
    numbers = [f"+2547{(int(run_id, 16) + i) % 10**8:08d}" for i in range(args.calls)]
    redis = aioredis.from_url(c.redis_url)
    live_key = lease_key("account", f"africastalking/{ACCOUNT}")
    async with httpx.AsyncClient(base_url=c.sim_url, timeout=30) as sim:
        for n in numbers:
            await sim.put(f"/sim/phones/{n}", json={"answer": "answer", "ring_s": 1, "hangup_after_s": args.call_s})
        before = {x["session_id"] for x in (await sim.get("/sim/calls")).json()["calls"]}
        producer = AIOKafkaProducer(bootstrap_servers=c.kafka_bootstrap, linger_ms=5)
        await producer.start()
        samples: list[tuple[int, int]] = []
        sampling = True

        async def sample() -> None:
            while sampling:
                stats = (await sim.get("/sim/stats")).json()
                live = sum(n for state, n in stats["by_state"].items() if state != "ended")
                samples.append((live, int(await redis.zcard(live_key))))
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample())
        started = time.monotonic()
        try:
            for n in numbers:
                r = DialRequest(to=n, flow="survey", account=ACCOUNT, campaign_id=f"bench-{run_id}")
                await producer.send(Topic.DIAL_REQUESTS.value, encode(r), key=r.request_id.encode())
            await producer.flush()
        finally:
            await producer.stop()
        killed_at = None
        wanted = set(numbers)
        deadline = started + args.calls / args.cps * 3 + 60
        while time.monotonic() < deadline:  # /sim/stats is cheap; /sim/calls (transcripts) is read once
            if kill and killed_at is None and time.monotonic() - started >= args.kill_after:
                stack.kill(kill)
                killed_at = time.monotonic() - started
            if (await sim.get("/sim/stats")).json()["calls"] - len(before) >= len(numbers):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)  # late duplicates would show here
        arrivals: dict[str, list[float]] = {}
        by_session = {}
        for x in (await sim.get("/sim/calls")).json()["calls"]:
            if x["session_id"] not in before and x["caller_number"] in wanted:
                arrivals.setdefault(x["caller_number"], []).append(x["received_at"])
                by_session[x["session_id"]] = x["received_at"]
        if args.keep:  # for matching with the dialers' slot_us log lines
            (stack.root / f"arrivals-{run_id}.json").write_text(json.dumps(by_session))
        # drain: every call ended and its lease released before the next run
        for _ in range(240):  # at most 2 minutes
            if not await redis.zcard(live_key):
                break
            await asyncio.sleep(0.5)
        sampling = False
        await sampler
        leftover = int(await redis.zcard(live_key))
    await redis.aclose()
    times = sorted(t for ts in arrivals.values() for t in ts)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return {
        "killed_replica_at_s": round(killed_at, 1) if killed_at is not None else None,
        "requests": len(numbers),
        "dialled_numbers": len(arrivals),
        "dialled_twice": sum(1 for ts in arrivals.values() if len(ts) > 1),
        "exactly_once": len(arrivals) == len(numbers) and all(len(ts) == 1 for ts in arrivals.values()),
        "max_in_1s": max_in_window(times),
        "mean_rate": round((len(times) - 1) / span, 3) if span else None,
        "min_gap_ms": round(min(gaps) * 1000, 1) if gaps else None,
        "p1_gap_ms": round(sorted(gaps)[len(gaps) // 100] * 1000, 1) if gaps else None,
        "max_gap_ms": round(max(gaps) * 1000, 1) if gaps else None,
        "max_gap_after_s": round(times[gaps.index(max(gaps))] - times[0], 2) if gaps else None,
        "max_live_sim": max((s[0] for s in samples), default=0),
        "max_live_leases": max((s[1] for s in samples), default=0),
        "leases_left_after_drain": leftover,
        "duration_s": round(span, 2),
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ["max_in_1s", "mean_rate", "min_gap_ms", "max_live_sim", "max_live_leases", "duration_s"]
    out: dict[str, Any] = {}
    for k in keys:
        values = [r[k] for r in runs if r[k] is not None]
        if values:
            out[k] = {"min": min(values), "median": statistics.median(values), "max": max(values)}
    out["exactly_once"] = all(r["exactly_once"] for r in runs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--cps", type=float, default=10)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--call-s", type=float, default=5, help="simulated seconds a call lasts once answered")
    parser.add_argument("--speed", type=float, default=5, help="SIM_SPEED: simulated seconds per real second")
    parser.add_argument("--kill-after", type=float, default=20, help="real seconds into a kill run")
    parser.add_argument("--headroom", type=float, default=None, help="SB_PACE_HEADROOM (default: the dialer's)")
    parser.add_argument("--keep", action="store_true", help="keep the stack's folder (logs) afterwards")
    parser.add_argument("--log-level", default="WARNING", help="the services' SB_LOG_LEVEL")
    parser.add_argument("--no-kill", action="store_true", help="skip the runs with a replica killed")
    parser.add_argument(
        "--only-kill", action="store_true", help="only the runs with a replica killed (the steady ones kept)"
    )
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="sb-bench-pacing-"))
    os.chmod(root, 0o755)
    config = StackConfig.ephemeral(root, speed=args.speed, partitions=4)
    config.extra_env["SB_LOG_LEVEL"] = args.log_level
    config.extra_env["SB_CALL_LEASE_S"] = "60"
    if args.headroom is not None:
        config.extra_env["SB_PACE_HEADROOM"] = str(args.headroom)
    account = {
        "base_url": config.sim_url,
        "username": "sandbox",
        "api_key": "sim-api-key",
        "from_number": "+254711000777",
        "cps": args.cps,
        "max_concurrent": args.concurrent,
    }
    config.extra_env["SB_ACCOUNTS"] = json.dumps({"africastalking": {ACCOUNT: account}})
    stack = Stack(config)
    results: dict[str, Any] = {}
    try:
        stack.up()
        replica = stack.start_replica("dialer")
        kinds = ["steady"] if args.no_kill else ["replica_killed"] if args.only_kill else ["steady", "replica_killed"]
        if args.only_kill and RESULTS.exists():
            results = json.loads(RESULTS.read_text())["results"]
        for kind in kinds:
            runs = []
            for i in range(args.runs):
                if kind == "replica_killed" and replica not in stack.replicas():
                    replica = stack.start_replica("dialer")
                    time.sleep(3)  # the consumer group settles with both replicas
                figures = asyncio.run(one_run(stack, args, kill=replica if kind == "replica_killed" else None))
                print(kind, i + 1, json.dumps(figures), flush=True)
                runs.append(figures)
            results[kind] = {"runs": runs, "summary": summary(runs)}
            print(kind, "min/median/max:", json.dumps(results[kind]["summary"]), flush=True)
    finally:
        stack.down()
        if args.keep:
            print("stack folder kept:", root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    setup = {k: v for k, v in vars(args).items()}
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "setup": setup,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
