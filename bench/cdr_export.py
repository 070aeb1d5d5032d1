"""Benchmark: exporting 1,000,000 CDRs through ``GET /v1/calls.csv`` and ``GET /v1/calls.ndjson``
with flat memory.

A local Tansu, Redis and PostgreSQL (migrated), the api service as a process, and ``--rows``
(default 1,000,000) CDRs of the local tenant written straight by SQL (``generate_series``, across
two monthly partitions). Each run streams the whole export over HTTP (the body is counted and
dropped) while the api's resident memory (``VmRSS`` of ``/proc/<pid>/status``) is sampled every
100 ms. Figures per format: rows/s, MB/s, the api's RSS before, peak and growth (MiB).

Three runs (``--runs``); min / median / max printed and written to ``bench/results/cdr_export.json``.

    uv run python bench/cdr_export.py [--rows 1000000] [--runs 3]
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
from pathlib import Path

import asyncpg
import httpx

from common import PeakRss, spread_by_key
from switchboard_devstack.stack import REPO, Stack, StackConfig

RESULTS = REPO / "bench" / "results" / "cdr_export.json"

FILL = """
INSERT INTO cdr_calls (call_key, call_start)
SELECT 'africastalking:export-' || i, timestamptz '2026-11-15 00:00Z' + i * interval '2 seconds'
FROM generate_series(1, $1) i;
INSERT INTO cdrs (call_key, call_start, call_id, tenant_id, provider, account, direction, caller_number,
                  destination_number, status, hangup_cause, hangup_cause_raw, started_at, ended_at, duration_s,
                  cost, currency, flow_id, flow_version, campaign_id, attempt, inputs, recordings, session_data,
                  trail)
SELECT 'africastalking:export-' || i, timestamptz '2026-11-15 00:00Z' + i * interval '2 seconds',
       'export-' || i, 'local', 'africastalking', 'default', 'outbound', '+254711000100',
       '+2547' || lpad(i::text, 8, '0'), 'completed', 'NORMAL_CLEARING', 'NORMAL_CLEARING',
       timestamptz '2026-11-15 00:00Z' + i * interval '2 seconds',
       timestamptz '2026-11-15 00:01Z' + i * interval '2 seconds', 48, 4.8, 'KES', 'survey', '1', 'export', 1,
       jsonb_build_object('rating', (i % 5 + 1)::text), '[]'::jsonb, '{"firstName": "Amina"}'::jsonb,
       '[{"t": 1, "k": "cb", "e": "call.started"}]'::jsonb
FROM generate_series(1, $1) i;
"""


async def export(stack: Stack, path: str, rows: int) -> dict[str, float]:
    size = lines = 0
    headers = {"Authorization": f"Bearer {stack.api_key()}"}
    async with PeakRss(stack.pid("api"), every_s=0.1) as rss:
        t0 = time.perf_counter()
        async with (
            httpx.AsyncClient(base_url=stack.config.api_url, headers=headers, timeout=600) as client,
            client.stream("GET", path, params={"campaign": "export"}) as r,
        ):
            r.raise_for_status()
            async for chunk in r.aiter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\n")
        elapsed = time.perf_counter() - t0
    data_lines = lines - (1 if path.endswith(".csv") else 0)
    assert data_lines == rows, f"{path}: {data_lines} lines for {rows} rows"
    return {
        "rows_per_s": round(rows / elapsed),
        "mb_per_s": round(size / elapsed / 1e6, 1),
        "seconds": round(elapsed, 1),
        "rss_before_mib": round(rss.before, 1),
        "rss_peak_mib": round(rss.peak, 1),
        "rss_growth_mib": round(rss.growth, 1),
    }


async def fill(stack: Stack, rows: int) -> None:
    db = await asyncpg.connect(stack.config.database_url)
    try:
        await db.execute(
            "CREATE TABLE IF NOT EXISTS cdrs_y2026m11 PARTITION OF cdrs "
            "FOR VALUES FROM ('2026-11-01 00:00Z') TO ('2026-12-01 00:00Z')"
        )
        await db.execute(
            "CREATE TABLE IF NOT EXISTS cdrs_y2026m12 PARTITION OF cdrs "
            "FOR VALUES FROM ('2026-12-01 00:00Z') TO ('2027-01-01 00:00Z')"
        )
        for statement in FILL.strip().split(";\n"):
            if statement.strip():
                await db.execute(statement.replace("$1", str(rows)))
        await db.execute("ANALYZE cdrs")
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = Path(tempfile.mkdtemp(prefix="sb-export-bench-"))
    os.chmod(root, 0o755)
    stack = Stack(StackConfig.ephemeral(root))
    runs: list[dict[str, float]] = []
    try:
        stack.start_kafka()
        stack.start_redis()
        stack.start_postgres()
        stack.migrate()
        stack.mint_local_key()
        t0 = time.perf_counter()
        asyncio.run(fill(stack, args.rows))
        print(f"{args.rows} rows written in {time.perf_counter() - t0:.1f} s", flush=True)
        stack.start("api")
        for _ in range(args.runs):
            figures: dict[str, float] = {}
            for fmt in ("csv", "ndjson"):
                for name, value in asyncio.run(export(stack, f"/v1/calls.{fmt}", args.rows)).items():
                    figures[f"{fmt}_{name}"] = value
            print(figures, flush=True)
            runs.append(figures)
    finally:
        stack.down()
        shutil.rmtree(root, ignore_errors=True)
    summary = spread_by_key(runs)
    print(json.dumps(summary, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"load_average": os.getloadavg(), "rows": args.rows, "summary": summary, "runs": runs}, indent=2)
    )
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
