"""Benchmark: N live calls that stay in an IVR menu and press a key every T seconds.

A call centre's load is callbacks per second from calls that stay up: 10,000 live calls that each
press a key every ten seconds are 1,000 callbacks/s. This starts its own local stack on free ports
and plays N Africa's Talking calls against the ingress in AT's own wire format (form posts; the
next post goes to the ``callbackUrl`` of the ``GetDigits`` the last reply carried): each call
starts, then presses 9 ("hear the menu again") every T seconds, for ``--seconds``. Call starts
are spread over the first T seconds so the load is even. It reports callback turnaround p50 /
p95 / p99 (from each press's scheduled time), how many answers were the fallback, and errors.

The generator shares the machine's cores with everything it measures. Results: printed, and
written to ``bench/results/concurrent_calls.json``.

    uv run python bench/concurrent_calls.py [--calls 500,1000,2000,5000] [--every 10] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree as ET

sys.path.insert(0, str(Path(__file__).resolve().parent))
from switchboard_devstack.stack import REPO, Stack, StackConfig
from webhook_roundtrip import Connection, cpu_of, percentile, stack_pids, wait_drained

RESULTS = REPO / "bench" / "results" / "concurrent_calls.json"


def fields(session_id: str, n: int, digits: str | None = None) -> dict[str, str]:
    form = {
        "isActive": "1",
        "sessionId": session_id,
        "direction": "Inbound",
        "callerNumber": f"+2547{n % 10**8:08d}",
        "destinationNumber": "+254711000200",
        "callStartTime": "2026-11-21+10:00:00",
    }
    if digits is not None:
        form["dtmfDigits"] = digits
    return form


async def run(url: str, calls: int, every_s: float, seconds: float, pool: int) -> dict[str, Any]:
    latencies: list[float] = []
    counts = {"fallbacks": 0, "errors": 0, "callbacks": 0}
    base = urlsplit(url)
    conns: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(pool):
        conns.put_nowait(Connection(base.hostname or "127.0.0.1", base.port or 80, base.path))
    start = time.perf_counter()
    stop_at = start + seconds

    async def post(target: str, form: dict[str, str], scheduled: float) -> str | None:
        """POST and return the next callbackUrl (None when the call ended or failed)."""
        parts = urlsplit(target)
        conn = await conns.get()
        conn.path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            status, headers, content = await asyncio.wait_for(conn.post_form(urlencode(form).encode()), 10)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            conn.close()
            counts["errors"] += 1
            return None
        finally:
            conns.put_nowait(conn)
        counts["callbacks"] += 1
        latencies.append(time.perf_counter() - scheduled)
        if status != 200:
            counts["errors"] += 1
            return None
        if headers.get("x-switchboard-fallback"):
            counts["fallbacks"] += 1
        if not content.startswith(b"<"):  # the acknowledgement of a final notification
            return None
        root = ET.fromstring(content)
        gather = root.find("GetDigits")
        redirect = root.find("Redirect")
        if gather is not None:
            return gather.get("callbackUrl")
        return redirect.text if redirect is not None else None

    async def call(n: int) -> None:
        session_id = f"ATVId_live{uuid.uuid4().hex}"
        scheduled = start + (n / calls) * every_s
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        target = await post(url, fields(session_id, n), scheduled)
        while target is not None:
            scheduled += every_s
            if scheduled > stop_at:
                break
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            target = await post(target, fields(session_id, n, "9"), scheduled)
        await post(url, {**fields(session_id, n), "isActive": "0", "durationInSeconds": "60"}, time.perf_counter())

    await asyncio.gather(*(call(n) for n in range(calls)))
    ms = [x * 1000 for x in latencies]
    elapsed = time.perf_counter() - start
    return {
        "calls": calls,
        "every_s": every_s,
        "seconds": seconds,
        "callbacks_per_s": round(counts["callbacks"] / elapsed, 1),
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        **counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", default="500,1000,2000,5000")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between a call's key presses")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=256)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    os.chmod(root, 0o755)
    config = StackConfig.ephemeral(root, speed=50.0)
    config.extra_env.update({"SB_LOG_LEVEL": "WARNING"})
    stack = Stack(config)
    print("starting the stack…", flush=True)
    stack.up()
    results = []
    try:
        for calls in [int(c) for c in args.calls.split(",")]:
            asyncio.run(wait_drained(config.kafka_bootstrap))
            pids = stack_pids(stack)
            before = cpu_of(pids)
            figures = asyncio.run(run(config.callback_url, calls, args.every, args.seconds, args.connections))
            after = cpu_of(pids)
            figures["cpu_ms_per_callback"] = {
                name: round((after[name] - before[name]) * 1000 / max(1, figures["callbacks"]), 3) for name in pids
            }
            figures["load_average"] = list(os.getloadavg())
            results.append(figures)
            print(
                f"{calls:6} calls, a press every {args.every:g} s: {figures['callbacks_per_s']:7}/s  "
                f"p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms  p99 {figures['p99_ms']} ms  "
                f"fallbacks {figures['fallbacks']}  errors {figures['errors']}",
                flush=True,
            )
    finally:
        stack.down()
        shutil.rmtree(root, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "results": results}, indent=2
        )
    )
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
