"""Benchmark: a million-contact CSV streamed into a campaign through the api.

Starts its own local stack on free ports, creates a draft campaign (never started, so nothing is
dialled) and streams a generated CSV of ``--rows`` contacts (phone + three session-data columns,
about 90 bytes a row) to ``POST /v1/campaigns/{id}/contacts``, three times. While each upload
runs it samples the api process's resident memory (``VmRSS``) every 50 ms. Reported per run: wall
time, rows per second, the api's RSS before and at its peak, and the growth; then min / median /
max over the runs. The claim under test: memory stays flat (the growth is a small constant, not a
share of the file), because rows go to PostgreSQL in COPY batches as the bytes arrive.

Results: printed, and written to ``bench/results/campaign_upload.json``.

    uv run python bench/campaign_upload.py [--rows 1000000] [--runs 3]
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
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from common import PeakRss, spread_by_key
from switchboard_devstack.stack import REPO, Stack, StackConfig

RESULTS = REPO / "bench" / "results" / "campaign_upload.json"
BATCH = 10_000


def row(i: int) -> str:
    return f"+2547{10_000_000 + i % 89_999_999:08d},Name{i},ACC-{i:09d},notes about contact {i}\n"


async def body(rows: int, sent: list[int]) -> AsyncIterator[bytes]:
    head = b"phone,firstName,account,notes\n"
    sent[0] += len(head)
    yield head
    for start in range(0, rows, BATCH):
        chunk = "".join(row(i) for i in range(start, min(rows, start + BATCH))).encode()
        sent[0] += len(chunk)
        yield chunk


async def one_run(api_url: str, key: str, pid: int, rows: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=httpx.Timeout(60, read=1800)) as api:
        r = await api.post("/v1/campaigns", json={"name": "bench upload", "flow": "survey"})
        r.raise_for_status()
        cid = r.json()["campaign_id"]
        sent = [0]
        async with PeakRss(pid) as rss:
            started = time.monotonic()
            r = await api.post(
                f"/v1/campaigns/{cid}/contacts", content=body(rows, sent), headers={"Content-Type": "text/csv"}
            )
            elapsed = time.monotonic() - started
        r.raise_for_status()
        report = r.json()
    return {
        "rows": rows,
        "bytes": sent[0],
        "accepted": report["accepted"],
        "rejected": report["rejected"],
        "seconds": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed),
        "rss_before_mb": round(rss.before, 1),
        "rss_peak_mb": round(rss.peak, 1),
        "rss_growth_mb": round(rss.growth, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    os.chmod(root, 0o755)
    config = StackConfig.ephemeral(root, speed=50.0)
    config.extra_env.update({"SB_LOG_LEVEL": "WARNING"})
    stack = Stack(config)
    print("starting the stack…", flush=True)
    stack.up()
    runs = []
    try:
        pid = int((stack.run_dir / "api.pid").read_text())
        for n in range(args.runs):
            figures = asyncio.run(one_run(config.api_url, stack.api_key(), pid, args.rows))
            runs.append(figures)
            print(
                f"run {n + 1}: {figures['rows']} rows ({figures['bytes'] / 1e6:.0f} MB) in {figures['seconds']} s "
                f"({figures['rows_per_s']}/s); api RSS {figures['rss_before_mb']} → peak {figures['rss_peak_mb']} MB "
                f"(+{figures['rss_growth_mb']} MB)",
                flush=True,
            )
    finally:
        stack.down()
        shutil.rmtree(root, ignore_errors=True)
    summary = spread_by_key(runs, ("seconds", "rows_per_s", "rss_growth_mb", "rss_peak_mb"))
    for k, v in summary.items():
        print(f"{k:14} min {v['min']}  median {v['median']}  max {v['max']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "runs": runs,
                "summary": summary,
            },
            indent=2,
        )
    )
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
