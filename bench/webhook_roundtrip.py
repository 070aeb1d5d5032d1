"""Benchmark: Africa's Talking callback round trip through ingress → Kafka → flow-runner → Redis.

Starts its own local stack on free ports (Tansu, Redis, PostgreSQL, the five services) and a
baseline process that computes the same reply in-process (``baseline_app.py``). For each offered
load it sends call-start notifications for fresh inbound calls at a fixed rate (open loop) for a
fixed time, and reports the achieved rate, p50/p95/p99 turnaround and how many answers were the
fallback. Turnaround is measured from each request's *scheduled* send time, so a generator that
falls behind shows as latency instead of hiding it (no coordinated omission).

The load generator shares the machine's cores with everything it measures; the figures are for
this machine as a whole. Results: printed, and written to ``bench/results/webhook_roundtrip.json``.

    uv run python bench/webhook_roundtrip.py [--rates 200,500,1000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

from switchboard_devstack.stack import REPO, Stack, StackConfig, free_port

RESULTS = REPO / "bench" / "results" / "webhook_roundtrip.json"


def form(i: int) -> dict[str, str]:
    return {
        "isActive": "1",
        "sessionId": f"ATVId_bench{uuid.uuid4().hex}",
        "direction": "Inbound",
        "callerNumber": f"+2547{i % 10**8:08d}",
        "destinationNumber": "+254711000200",
        "callerCountryCode": "254",
        "callStartTime": "2026-11-21+10:00:00",
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Connection:
    """One keep-alive HTTP/1.1 connection on raw asyncio streams. httpx's pool scans every queued
    request against every connection, which saturates the generator itself at these rates."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_form(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        content = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return int(status_line.split()[1]), headers, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def drive(url: str, rate: int, seconds: float, connections: int = 256) -> dict[str, float]:
    """Offer ``rate`` callbacks a second for ``seconds`` over ``connections`` keep-alive
    connections; a request waits for a free connection, and that wait counts in its latency."""
    parts = urlsplit(url)
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    latencies: list[float] = []
    counts = {"fallbacks": 0, "errors": 0}

    async def worker() -> None:
        conn = Connection(parts.hostname or "127.0.0.1", parts.port or 80, parts.path)
        while (item := await queue.get()) is not None:
            i, scheduled = item
            try:
                status, headers, content = await asyncio.wait_for(conn.post_form(urlencode(form(i)).encode()), 10)
                if status != 200 or not content.startswith(b"<?xml"):
                    counts["errors"] += 1
                elif headers.get("x-switchboard-fallback"):
                    counts["fallbacks"] += 1
                latencies.append(time.perf_counter() - scheduled)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                counts["errors"] += 1
                conn.close()
                conn = Connection(parts.hostname or "127.0.0.1", parts.port or 80, parts.path)
        conn.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    start = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((i, scheduled))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return {
        "offered_per_s": rate,
        "seconds": seconds,
        "sent": total,
        "answered": len(ms),
        "achieved_per_s": round(len(ms) / elapsed, 1),
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
        **counts,
    }


async def wait_drained(bootstrap: str, timeout_s: float = 300) -> None:
    """Wait until the flow-runner has committed everything on voice.call-events."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id="flow-runner", enable_auto_commit=False)
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            tps = [
                TopicPartition("voice.call-events", p) for p in consumer.partitions_for_topic("voice.call-events") or []
            ]
            ends = await consumer.end_offsets(tps)
            lag = 0
            for tp in tps:
                # Tansu's end offset can trail the committed position by a record or two
                lag += max(0, ends[tp] - ((await consumer.committed(tp)) or 0))
            if lag == 0:
                return
            await asyncio.sleep(0.5)
    finally:
        await consumer.stop()


def start_baseline(config: StackConfig) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, **config.service_env(), "BASELINE_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "baseline_app.py")],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/docs", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, url + "/voice/instruct"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="200,500,1000")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the teardown below on kill
    root = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    os.chmod(root, 0o755)
    config = StackConfig.ephemeral(root, speed=50.0)
    config.extra_env.update({"SB_LOG_LEVEL": "WARNING"})
    stack = Stack(config)
    print("starting the stack…", flush=True)
    stack.up()
    baseline, baseline_url = start_baseline(config)
    results: dict[str, list[dict[str, float]]] = {"pipeline": [], "baseline_in_process": []}
    try:
        for rate in rates:
            for name, url in (
                ("baseline_in_process", baseline_url),
                ("pipeline", config.callback_url),
            ):
                asyncio.run(wait_drained(config.kafka_bootstrap))  # no backlog from the previous run
                asyncio.run(drive(url, min(rate, 50), 2))  # warm up connections and caches
                figures = asyncio.run(drive(url, rate, args.seconds))
                results[name].append(figures)
                print(
                    f"{name:20} offered {rate:5}/s  achieved {figures['achieved_per_s']:7}/s  "
                    f"p50 {figures['p50_ms']:7} ms  p95 {figures['p95_ms']:7} ms  p99 {figures['p99_ms']:7} ms  "
                    f"fallbacks {figures['fallbacks']}  errors {figures['errors']}",
                    flush=True,
                )
    finally:
        baseline.terminate()
        stack.down()
        shutil.rmtree(root, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "reply_timeout_s": 3.0,
                "results": results,
            },
            indent=2,
        )
    )
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
