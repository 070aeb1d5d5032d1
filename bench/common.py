"""What the benchmark scripts share: the min / median / max of runs, and a process's peak RSS
sampled while a measured step runs (``/proc/<pid>/status`` VmRSS, MiB)."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def spread(values: Sequence[float]) -> dict[str, float]:
    """``{"min", "median", "max"}`` of ``values``."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def spread_by_key(runs: Sequence[dict[str, Any]], keys: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    """:func:`spread` of each of ``keys`` (default: the first run's) over ``runs``."""
    return {k: spread([r[k] for r in runs]) for k in (keys or list(runs[0]))}


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` now, MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakRss:
    """``async with PeakRss(pid) as rss:`` samples ``pid``'s RSS every ``every_s`` while the block
    runs; then ``rss.before`` and ``rss.peak`` (MiB) and ``rss.growth`` (MiB) are set."""

    def __init__(self, pid: int, every_s: float = 0.05) -> None:
        self.pid = pid
        self.every_s = every_s
        self.before = self.peak = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def growth(self) -> float:
        return self.peak - self.before

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mib(self.pid))
            await asyncio.sleep(self.every_s)

    async def __aenter__(self) -> PeakRss:
        self.before = self.peak = rss_mib(self.pid)
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, rss_mib(self.pid))
