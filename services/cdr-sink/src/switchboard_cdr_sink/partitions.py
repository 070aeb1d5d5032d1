"""Monthly partitions of ``cdrs``: created ahead, dropped after the retention.

``cdrs`` is partitioned by range of ``call_start`` (migration 0005), one partition a calendar month
in UTC named ``cdrs_yYYYYmMM``, and ``cdrs_default`` for any time without one. The cdr-sink calls
:func:`maintain` at start and then daily (``SB_CDR_PARTITION_CHECK_S``):

- it creates this month's partition and the next ``ahead`` months' (``SB_CDR_PARTITIONS_AHEAD``,
  default 2), moving any rows the default partition already holds for that month into it (a
  partition cannot be created over rows the default partition has for its range);
- with ``retention_months`` (``SB_CDR_RETENTION_MONTHS``, default 0 = keep everything) it drops
  every monthly partition that ended before the first day of the month ``retention_months`` ago,
  and deletes the same older rows from ``cdrs_default`` and ``cdr_calls``.

Idempotent, and safe to run from two sinks at once (one transaction per month; an advisory lock
serialises them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import asyncpg

from switchboard.logging import get_logger

log = get_logger(__name__)
NAME = re.compile(r"^cdrs_y(\d{4})m(\d{2})$")
LOCK = 0x5B_CD_45  # pg_advisory_xact_lock key of partition maintenance


def month_start(day: date, plus: int = 0) -> date:
    """The first day of ``day``'s month moved by ``plus`` months (negative: back)."""
    index = day.year * 12 + day.month - 1 + plus
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"cdrs_y{month.year:04d}m{month.month:02d}"


def _ts(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass
class Maintained:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


async def existing(conn: asyncpg.Connection) -> list[str]:
    """Names of the monthly partitions of ``cdrs``, oldest first."""
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'cdrs'::regclass"
    )
    return sorted(r["relname"] for r in rows if NAME.match(r["relname"]))


async def maintain(
    conn: asyncpg.Connection, *, ahead: int = 2, retention_months: int = 0, today: date | None = None
) -> Maintained:
    """Create this month's and the next ``ahead`` months' partitions; drop those past
    ``retention_months`` (0: none). Returns the partitions created and dropped."""
    today = today or datetime.now(UTC).date()
    done = Maintained()
    have = set(await existing(conn))
    for plus in range(ahead + 1):
        lo = month_start(today, plus)
        name = partition_name(lo)
        if name in have:
            continue
        hi = month_start(lo, 1)
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
            if name in await existing(conn):
                continue
            await conn.execute(f"CREATE TABLE {name} (LIKE cdrs INCLUDING DEFAULTS)")
            await conn.execute(
                f"WITH moved AS (DELETE FROM cdrs_default WHERE call_start >= $1 AND call_start < $2 RETURNING *) "
                f"INSERT INTO {name} SELECT * FROM moved",
                _ts(lo),
                _ts(hi),
            )
            await conn.execute(
                f"ALTER TABLE cdrs ATTACH PARTITION {name} FOR VALUES FROM ('{_ts(lo).isoformat()}') "
                f"TO ('{_ts(hi).isoformat()}')"
            )
        done.created.append(name)
    if retention_months > 0:
        cutoff = month_start(today, -retention_months)
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
            for name in await existing(conn):
                match = NAME.match(name)
                assert match is not None
                if month_start(date(int(match[1]), int(match[2]), 1), 1) <= cutoff:
                    await conn.execute(f"DROP TABLE {name}")
                    done.dropped.append(name)
            await conn.execute("DELETE FROM cdrs_default WHERE call_start < $1", _ts(cutoff))
            await conn.execute("DELETE FROM cdr_calls WHERE call_start < $1", _ts(cutoff))
    if done.created or done.dropped:
        log.info("cdr partitions maintained", created=done.created, dropped=done.dropped)
    return done
