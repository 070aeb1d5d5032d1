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

import profiles  # bench/profiles.py, beside this file
from switchboard_devstack.stack import REPO, Stack, StackConfig, free_port

RESULTS = REPO / "bench" / "results" / "webhook_roundtrip.json"
PROFILES = REPO / "bench" / "results" / "profiles"


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
        """POST on the kept-alive connection; if the server had closed it (a keep-alive timeout)
        before answering anything, reconnect and send once more, as HTTP clients do: such a
        request is neither an error of the server nor left out of the latencies."""
        reused = self.writer is not None
        try:
            return await self._post(body)
        except (OSError, asyncio.IncompleteReadError, IndexError):
            self.close()
            if not reused:
                raise
            return await self._post(body)

    async def _post(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
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
        self.reader = self.writer = None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def stack_pids(stack: Stack) -> dict[str, int]:
    """The PIDs of the processes a callback goes through (and the dialer and sink, idle here)."""
    names = ["webhook-ingress", "flow-runner", "tansu", "redis", "dialer", "cdr-sink", "api"]
    pids = {}
    for name in names:
        path = stack.run_dir / f"{name}.pid"
        if path.exists():
            pids[name] = int(path.read_text())
    return pids


def cpu_of(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_per_callback(
    stack: Stack, url: str, count: int, rate: int, idle: dict[str, float] | None = None
) -> dict[str, object]:
    """CPU milliseconds per callback for each process, over exactly ``count`` callbacks offered at
    ``rate``/s (the figure least disturbed by other work on the machine). With ``idle`` (from
    :func:`idle_cpu`), also the figures net of what the processes burn with no traffic at all
    (``net_*``: on Tansu the consumers' fetch polling is a fixed cost per second, not per callback)."""
    pids = stack_pids(stack)
    redis_before = redis_calls(stack)
    before = cpu_of(pids)
    figures = asyncio.run(drive(url, rate, count / rate))
    asyncio.run(wait_drained(stack.config.kafka_bootstrap))
    after = cpu_of(pids)
    redis_after = redis_calls(stack)
    commands = {
        name: round((calls - redis_before.get(name, 0)) / count, 2)
        for name, calls in redis_after.items()
        if calls - redis_before.get(name, 0) >= count / 10
    }
    per = {name: round((after[name] - before[name]) * 1000 / count, 3) for name in pids}
    per["ingress+flow-runner"] = round(per.get("webhook-ingress", 0) + per.get("flow-runner", 0), 3)
    per["stack"] = round(sum(v for k, v in per.items() if k not in ("ingress+flow-runner",)), 3)
    if idle:
        net = {name: round(per[name] - idle.get(name, 0) * 10 / rate, 3) for name in pids}
        per["net_ingress+flow-runner"] = round(net.get("webhook-ingress", 0) + net.get("flow-runner", 0), 3)
        per["net_stack"] = round(sum(net.values()), 3)
    return {
        "callbacks": count,
        "rate": rate,
        "errors": figures["errors"],
        **per,
        "redis_commands_per_callback": commands,
    }


def where_the_time_goes(stack: Stack, url: str, rate: int, seconds: float = 20) -> dict[str, object]:
    """py-spy profiles of ingress and flow-runner under ``rate``/s for ``seconds``, summarised by
    owning package (``bench/profiles.py``); the raw stacks stay in ``bench/results/profiles/``.
    A separate phase from :func:`cpu_per_callback`, so the sampler's own CPU is not in that figure."""
    pids = {k: v for k, v in stack_pids(stack).items() if k in ("webhook-ingress", "flow-runner")}
    samplers = profiles.start(pids, seconds, PROFILES)
    asyncio.run(drive(url, rate, seconds))
    for sampler in samplers:
        sampler.wait(timeout=60)
    summary: dict[str, object] = {name: profiles.summarise(PROFILES / f"{name}.txt") for name in pids}
    for name, figures in summary.items():
        print(f"{name}: {json.dumps(figures)}", flush=True)
    return summary


def redis_calls(stack: Stack) -> dict[str, int]:
    """Redis commands served so far, by command (``INFO commandstats``; the bench's own INFO calls
    are a handful, and commands under a tenth per callback are left out of the figure), and the
    connections Redis accepted (``(new connections)``: a pool that churns shows here)."""
    import redis

    client = redis.Redis(host=stack.config.host, port=stack.config.redis_port)
    try:
        stats = client.info("commandstats")
        connections = int(client.info("stats")["total_connections_received"])
    finally:
        client.close()
    calls = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}
    return {**calls, "(new connections)": connections}


def idle_cpu(stack: Stack, seconds: float = 10) -> dict[str, float]:
    """Share of one core each process uses with no traffic at all, over ``seconds``."""
    pids = stack_pids(stack)
    before = cpu_of(pids)
    time.sleep(seconds)
    after = cpu_of(pids)
    per = {name: round((after[name] - before[name]) / seconds * 100, 2) for name in pids}
    per["total_percent_of_a_core"] = round(sum(per.values()), 2)
    return per


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
    parser.add_argument("--cpu-count", type=int, default=3000, help="callbacks for the CPU-per-callback figure")
    parser.add_argument("--cpu-rate", type=int, default=150)
    parser.add_argument(
        "--long-poll", action="store_true", help="the services' production setting (500 ms fetch waits) on Tansu"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the CPU figure, sample ingress and flow-runner with py-spy at --cpu-rate (bench/profiles.py)",
    )
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the teardown below on kill
    root = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    os.chmod(root, 0o755)
    config = StackConfig.ephemeral(root, speed=50.0)
    config.extra_env.update({"SB_LOG_LEVEL": "WARNING"})
    if args.long_poll:
        config.extra_env["SB_KAFKA_LONG_POLL"] = "true"
    stack = Stack(config)
    print("starting the stack…", flush=True)
    stack.up()
    baseline, baseline_url = start_baseline(config)
    results: dict[str, list[dict[str, float]]] = {"pipeline": [], "baseline_in_process": []}
    profile: dict[str, object] = {}
    try:
        asyncio.run(wait_drained(config.kafka_bootstrap))
        time.sleep(3)  # let start-up work settle before measuring idleness
        idle = idle_cpu(stack)
        print(f"idle stack: {idle}", flush=True)
        asyncio.run(drive(config.callback_url, 50, 2))  # warm up
        cpu = cpu_per_callback(stack, config.callback_url, args.cpu_count, args.cpu_rate, idle)
        print(f"CPU ms per callback at {args.cpu_rate}/s over {args.cpu_count}: {cpu}", flush=True)
        if args.profile:
            profile = where_the_time_goes(stack, config.callback_url, args.cpu_rate)
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
                "load_average": os.getloadavg(),
                "reply_timeout_s": 3.0,
                "idle_cpu_percent": idle,
                "cpu_ms_per_callback": cpu,
                "profile": profile,
                "results": results,
            },
            indent=2,
        )
    )
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
