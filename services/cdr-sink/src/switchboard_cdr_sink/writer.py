"""Land a batch of CDR rows; isolate the rows PostgreSQL refuses; wait out database outages.

Two kinds of database error, told apart by SQLSTATE (:func:`is_refusal`):

- **The row's fault** (class 22 data exception: value too long, numeric overflow, bad encoding,
  an integer out of range for the driver; class 23 integrity constraint: not null, check; class 54
  program limit exceeded). Retrying can never help. :func:`land` bisects the batch until each
  refused row is alone, writes every other row, and returns the refused ones with the error, for
  the dead-letter topic.
- **The database's state** (everything else: connection refused or lost, too many connections,
  admin shutdown, serialization failure or deadlock, disk full, a missing table before the
  migration ran, and any error we do not recognise). Nothing is dead-lettered:
  :meth:`BatchWriter.write` retries the whole batch with backoff; the partition waits meanwhile.

Worked example: 500 rows, one refused at index 300. The batch fails → halves 0–249 (written) and
250–499 (fails) → 250–374 (fails) → … → row 300 alone fails: refused. About 2·log2(500) ≈ 18
transactions instead of 500; every other row lands.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard import metrics
from switchboard.logging import get_logger
from switchboard_cdr_sink.store import upsert_cdrs

log = get_logger(__name__)

REFUSAL_CLASSES = ("22", "23", "54")
"""SQLSTATE classes that mean "this row can never be written": data exception, integrity
constraint violation, program limit exceeded."""


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (SQLAlchemy's ``orig``, ``__cause__``), outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return seen


def sqlstate_of(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind ``exc`` (asyncpg's or SQLAlchemy's wrapper), if any."""
    for link in _chain(exc):
        state = getattr(link, "sqlstate", None)
        if isinstance(state, str) and len(state) == 5:
            return state
    return None


def is_refusal(exc: BaseException) -> bool:
    """True when PostgreSQL refused the row itself (SQLSTATE class 22, 23 or 54): retrying cannot
    help. False for everything else, which is retried: a connection error has no SQLSTATE, and an
    unknown error must not send data to the dead-letter topic."""
    state = sqlstate_of(exc)
    return state is not None and state[:2] in REFUSAL_CLASSES


def database_error(exc: BaseException) -> tuple[str, str]:
    """``(class name, message)`` of the driver's error behind ``exc``: the innermost
    asyncpg exception's, without the SQL statement and parameters SQLAlchemy adds (they hold the
    whole batch)."""
    inner = next((link for link in reversed(_chain(exc)) if getattr(link, "sqlstate", None)), exc)
    message = str(inner).split("\n[SQL:", 1)[0]
    detail = getattr(inner, "detail", None)
    if detail:
        message = f"{message} ({detail})"
    return type(inner).__name__, message[:1000]


@dataclass
class Pending:
    """One row to write and the Kafka record it came from (``record``: an aiokafka
    ``ConsumerRecord``, or anything the caller wants back with a refusal)."""

    record: Any
    row: dict[str, Any]


@dataclass
class Refused:
    pending: Pending
    error: BaseException


async def land(
    engine: AsyncEngine, items: list[Pending], landed: dict[str, tuple[Any, Any]] | None = None
) -> list[Refused]:
    """Write ``items`` (upsert, idempotent), isolating the rows PostgreSQL refuses by bisection.

    Returns the refused rows with their errors, in order; every other row is committed. Raises the
    first error that is not a refusal (:func:`is_refusal`); halves committed before it stay
    committed, which is harmless because the upsert rewrites them with the same values.

    Order within a batch is kept: halves are written left then right and a half's last row for a
    call key wins, so the result is what writing the rows one by one would give.
    """
    if not items:
        return []
    try:
        await upsert_cdrs(engine, [item.row for item in items], landed)
        return []
    except Exception as exc:
        if not is_refusal(exc):
            raise
        if len(items) == 1:
            return [Refused(items[0], exc)]
    middle = len(items) // 2
    return [*await land(engine, items[:middle], landed), *await land(engine, items[middle:], landed)]


@dataclass
class SinkHealth:
    """What ``/ready`` shows: ``state`` (``ok`` or ``retrying``), since when (monotonic), the last
    database error, and counters (CDRs written, records dead-lettered by reason, database retries)."""

    state: str = "ok"
    retrying_since: float | None = None
    last_error: str | None = None
    written: int = 0
    dead_lettered: dict[str, int] = field(default_factory=lambda: {"schema": 0, "database": 0})
    retries: int = 0

    def retrying(self, error: str) -> None:
        if self.retrying_since is None:
            self.retrying_since = time.monotonic()
        self.state, self.last_error = "retrying", error
        self.retries += 1

    def recovered(self) -> None:
        if self.retrying_since is not None:
            log.info("database back; batches flow again", retried_s=round(self.retrying_for(), 1))
        self.state, self.retrying_since = "ok", None

    def retrying_for(self) -> float:
        return 0.0 if self.retrying_since is None else time.monotonic() - self.retrying_since

    def info(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "retrying_s": round(self.retrying_for(), 1),
            "last_db_error": self.last_error,
            "cdrs_written": self.written,
            "dead_lettered": sum(self.dead_lettered.values()),
            "dead_lettered_by_reason": dict(self.dead_lettered),
            "db_retries": self.retries,
        }


class DatabaseUnavailable(Exception):
    """The database kept failing for the whole of one batch's retry budget; the batch is handed
    back to Kafka uncommitted (read again), nothing dead-lettered."""


class BatchWriter:
    """Write batches, retrying database outages with exponential backoff (``backoff_s`` doubling
    up to ``backoff_max_s``) for about ``budget_s`` per call (at least one backoff), then raising
    :class:`DatabaseUnavailable`. ``health`` records the state across calls: it says ``retrying``
    from the first failure until a batch lands."""

    def __init__(
        self,
        engine: AsyncEngine,
        health: SinkHealth,
        *,
        budget_s: float,
        backoff_s: float = 0.2,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.engine = engine
        self.health = health
        self.budget_s = budget_s
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s

    async def write(self, items: list[Pending], landed: dict[str, tuple[Any, Any]] | None = None) -> list[Refused]:
        """:func:`land` ``items``, retrying any error that is not a refusal. Returns the refused
        rows (``landed``: see :func:`~switchboard_cdr_sink.store.upsert_cdrs`). Raises
        :class:`DatabaseUnavailable` after ``budget_s`` of failures."""
        deadline = time.monotonic() + self.budget_s
        delay = self.backoff_s
        while True:
            try:
                refused = await land(self.engine, items, landed)
            except Exception as exc:
                name, message = database_error(exc)
                self.health.retrying(f"{name}: {message}")
                log.warning(
                    "database unavailable; batch paused, not dead-lettered",
                    error=f"{name}: {message}",
                    sqlstate=sqlstate_of(exc),
                    rows=len(items),
                    retrying_s=round(self.health.retrying_for(), 1),
                )
                await asyncio.sleep(delay)  # also before handing back: a re-read batch never spins
                if time.monotonic() >= deadline:
                    raise DatabaseUnavailable(f"{name}: {message}") from exc
                delay = min(delay * 2, self.backoff_max_s)
                continue
            self.health.recovered()
            self.health.written += len(items) - len(refused)
            metrics.CDRS_WRITTEN.inc(len(items) - len(refused))
            return refused
