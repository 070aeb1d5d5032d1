"""Turn events into CDR rows and upsert them (idempotent by ``call_key``).

Crash story: the cdr-sink commits its Kafka offsets only after the database transaction commits.
A crash in between replays the batch; the upsert rewrites the same rows with the same values, so
the table ends up as if each event had been applied once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.events import CallStatus, DialAttempt, Direction, SessionEnded
from switchboard_cdr_sink.schema import cdrs


def row_from_session(event: SessionEnded) -> dict[str, Any]:
    row = event.model_dump(exclude={"schema_version"})
    row["direction"] = event.direction.value
    row["status"] = event.status.value
    row["provider_status"] = None
    return row


def row_from_rejected_dial(attempt: DialAttempt) -> dict[str, Any]:
    """A dial the provider refused never rings, so it gets its CDR here, status ``failed``. The
    provider's status is its hangup cause, cut to the column (64; ``provider_status`` keeps 200)."""
    return {
        "call_key": f"{attempt.provider}:rejected:{attempt.call_id}",
        "call_id": attempt.call_id,
        "provider": attempt.provider,
        "account": attempt.account,
        "direction": Direction.OUTBOUND.value,
        "caller_number": attempt.caller_id,
        "destination_number": attempt.to,
        "status": CallStatus.FAILED.value,
        "hangup_cause": attempt.provider_status[:64],
        "hangup_cause_raw": attempt.provider_status[:64],
        "started_at": None,
        "ended_at": attempt.attempted_at,
        "duration_s": 0,
        "cost": None,
        "currency": None,
        "flow_id": attempt.flow,
        "flow_version": None,
        "campaign_id": attempt.campaign_id,
        "attempt": attempt.attempt,
        "inputs": {},
        "recordings": [],
        "session_data": attempt.session_data,
        "flow_error": None,
        "provider_status": attempt.provider_status[:200],
        "raw_invalid": {},
        "tenant_id": attempt.tenant_id,
    }


async def upsert_cdrs(engine: AsyncEngine, rows: list[dict[str, Any]]) -> int:
    """Insert or overwrite ``rows`` in one transaction. Returns how many were written.

    Within one batch the last row for a call key wins (PostgreSQL refuses two conflicting rows in
    one ``INSERT … ON CONFLICT``).
    """
    unique = list({row["call_key"]: row for row in rows}.values())
    if not unique:
        return 0
    stmt = insert(cdrs).values(unique)
    updates: dict[str, Any] = {
        c.name: stmt.excluded[c.name] for c in cdrs.columns if c.name not in ("call_key", "created_at")
    }
    updates["updated_at"] = func.now()
    stmt = stmt.on_conflict_do_update(index_elements=[cdrs.c.call_key], set_=updates)
    async with engine.begin() as conn:
        await conn.execute(stmt)
    return len(unique)
