"""Benchmark: how fast the cdr-sink lands CDRs, and how far behind it runs.

A local Tansu and PostgreSQL (migrated) and one cdr-sink process, as in production. Each run
publishes ``--events`` (default 100,000) ``SessionEnded`` records with fresh call keys to
``voice.sessions-ended`` as fast as one aiokafka producer can (the records are encoded before the
clock starts; each is stamped and appended to its partition's record batch, 1 MiB batches sent as
they fill: the load generator takes as little of the shared CPU as it can), and polls
``count(*)`` until all have landed.

- **rows/s landing**: events ÷ (time the last row was counted − time the first record was sent).
- **CPU-seconds per 100,000 events** of the sinks, PostgreSQL, Tansu and the load generator,
  from the first send to the last row counted (``/proc``; the generator's includes its polling).
- **lag p50/p99** (s): per row, ``created_at`` (PostgreSQL's ``now()``: the start of the
  transaction that wrote it) − ``ended_at`` (set to the wall-clock time just before that record
  was handed to the producer). The transaction's own duration (a batch's COPY + upsert, tens of ms)
  is not in it.

Three runs (``--runs``); min / median / max printed and written to ``bench/results/cdr_sink.json``
(``cdr_sink_<n>sinks_<p>p.json`` with ``--sinks``/``--partitions`` other than 1 and 2: more sink
processes in one consumer group, as more replicas of the Deployment).
``--profile`` samples the sink with py-spy during the last run (``bench/results/profiles/cdr-sink.txt``)
and prints where its time goes by package (``bench/profiles.py``).

    uv run python bench/cdr_sink.py [--events 100000] [--runs 3] [--sinks 1] [--partitions 2] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

sys.path.insert(0, str(Path(__file__).parent))
from common import spread_by_key
from profiles import start as start_profile
from profiles import summarise
from switchboard.events import CallStatus, Direction, SessionEnded, encode
from switchboard.topics import Topic
from switchboard_devstack.stack import REPO, Stack, StackConfig

RESULTS = REPO / "bench" / "results" / "cdr_sink.json"


def events(run: str, count: int) -> list[tuple[bytes, bytes]]:
    """``count`` encoded SessionEnded records (key, value), ``ended_at`` patched in at send time."""
    out = []
    for i in range(count):
        key = f"africastalking:bench-{run}-{i:07d}"
        event = SessionEnded(
            call_key=key,
            call_id=str(uuid.uuid4()),
            provider="africastalking",
            direction=Direction.OUTBOUND,
            caller_number="+254711000100",
            destination_number=f"+2547{i:08d}",
            status=CallStatus.COMPLETED,
            hangup_cause="NORMAL_CLEARING",
            started_at=datetime.now(UTC),
            ended_at=datetime.now(UTC),
            duration_s=48,
            cost=Decimal("4.8000"),
            currency="KES",
            flow_id="survey",
            flow_version="1",
            campaign_id=f"bench-{run}",
            inputs={"rating": str(i % 5 + 1)},
            session_data={"firstName": "Amina"},
            trail=[{"k": "cb", "t": 0}, {"k": "act", "t": 1, "p": "/actions/0"}, {"k": "reply", "t": 2}],
        )
        out.append((key.encode(), encode(event)))
    return out


ENDED = b'"ended_at":"'


def stamped(value: bytes) -> bytes:
    """``value`` with ``ended_at`` set to now (same length: ISO 8601 with microseconds, UTC)."""
    start = value.index(ENDED) + len(ENDED)
    end = value.index(b'"', start)
    return value[:start] + datetime.now(UTC).isoformat().replace("+00:00", "Z").encode() + value[end:]


def cpu_seconds() -> dict[str, float]:
    """CPU-seconds (user + system) used so far by the processes of this benchmark, by role: every
    cdr-sink process, every PostgreSQL process, Tansu, and this load generator (from ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(pid) == os.getpid():
            role = "load_generator"
        elif "switchboard_cdr_sink" in cmdline:
            role = "sinks"
        elif "tansu" in cmdline:
            role = "tansu"
        elif "postgres" in cmdline or "(postgres)" in stat:
            role = "postgres"
        else:
            continue
        totals[role] = totals.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return totals


async def one_run(config: StackConfig, count: int) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    records = events(run, count)
    producer = AIOKafkaProducer(
        bootstrap_servers=config.kafka_bootstrap, linger_ms=5, max_batch_size=1 << 20, acks="all"
    )
    await producer.start()
    db = await asyncpg.connect(config.database_url)
    campaign = f"bench-{run}"  # counted through ix_cdrs_campaign_id: the polling costs PostgreSQL little
    try:
        partitions = sorted(await producer.partitions_for(Topic.SESSIONS_ENDED.value))
        partitioner = DefaultPartitioner()
        batches = {p: producer.create_batch() for p in partitions}
        pending = []
        cpu_before = cpu_seconds()
        t0 = time.time()
        for key, value in records:
            p = partitioner(key, partitions, partitions)
            if batches[p].append(key=key, value=stamped(value), timestamp=None) is None:
                pending.append(await producer.send_batch(batches[p], Topic.SESSIONS_ENDED.value, partition=p))
                batches[p] = producer.create_batch()
                batches[p].append(key=key, value=stamped(value), timestamp=None)
        for p, batch in batches.items():
            pending.append(await producer.send_batch(batch, Topic.SESSIONS_ENDED.value, partition=p))
        await asyncio.gather(*pending)
        published = time.time()
        landed = 0
        while landed < count:
            await asyncio.sleep(0.1)
            landed = await db.fetchval("SELECT count(*) FROM cdrs WHERE campaign_id = $1", campaign)
            if time.time() - t0 > 600:
                raise RuntimeError(f"only {landed}/{count} rows after 600 s")
        done = time.time()
        cpu_after = cpu_seconds()
        lags = sorted(
            r[0]
            for r in await db.fetch(
                "SELECT extract(epoch FROM created_at - ended_at)::float8 FROM cdrs WHERE campaign_id = $1", campaign
            )
        )
    finally:
        await producer.stop()
        await db.close()
    figures = {
        "rows_per_s": round(count / (done - t0)),
        "publish_per_s": round(count / (published - t0)),
        "lag_p50_s": round(lags[len(lags) // 2], 3),
        "lag_p99_s": round(lags[int(len(lags) * 0.99)], 3),
        "lag_max_s": round(lags[-1], 3),
        "seconds": round(done - t0, 2),
        **{
            f"cpu_s_per_100k_{role}": round((cpu_after[role] - cpu_before.get(role, 0.0)) * 100_000 / count, 2)
            for role in cpu_after
        },
    }
    print(figures, flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--sinks", type=int, default=1, help="cdr-sink processes (one consumer group)")
    parser.add_argument("--profile", action="store_true", help="py-spy the sink during the last run")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = Path(tempfile.mkdtemp(prefix="sb-cdr-bench-"))
    os.chmod(root, 0o755)
    config = StackConfig.ephemeral(root, partitions=args.partitions)
    stack = Stack(config)
    runs: list[dict[str, float]] = []
    profile: dict[str, Any] | None = None
    try:
        stack.start_kafka()
        stack.start_postgres()
        stack.migrate()
        stack.start("cdr-sink")
        for _ in range(args.sinks - 1):
            stack.start_replica("cdr-sink")
        for i in range(args.runs):
            if args.profile and i == args.runs - 1:
                out = REPO / "bench" / "results" / "profiles"
                spies = start_profile({"cdr-sink": stack.pid("cdr-sink")}, 8, out)
                runs.append(asyncio.run(one_run(config, args.events)))
                for spy in spies:
                    spy.wait(60)
                profile = summarise(out / "cdr-sink.txt")
                print(json.dumps(profile, indent=2))
            else:
                runs.append(asyncio.run(one_run(config, args.events)))
    finally:
        stack.down()
        shutil.rmtree(root, ignore_errors=True)
    summary = spread_by_key(runs)
    print(json.dumps(summary, indent=2))
    results = (
        RESULTS
        if (args.sinks, args.partitions) == (1, 2)
        else RESULTS.with_stem(f"cdr_sink_{args.sinks}sinks_{args.partitions}p")
    )
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {
                "load_average": os.getloadavg(),
                "events": args.events,
                "partitions": args.partitions,
                "sinks": args.sinks,
                "summary": summary,
                "runs": runs,
                "profile": profile,
            },
            indent=2,
        )
    )
    print(f"written to {results.relative_to(REPO)}")


if __name__ == "__main__":
    main()
