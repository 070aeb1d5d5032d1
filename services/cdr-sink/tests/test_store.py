"""The sink's store: events → CDR rows (pure), and the idempotent upsert into PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from switchboard.testing import dial_attempt, session_ended
from switchboard_cdr_sink.store import row_from_rejected_dial, row_from_session, upsert_cdrs


def test_a_session_row_has_every_column_as_plain_values():
    row = row_from_session(session_ended())
    assert row["call_key"] == "africastalking:ATVId_example0002" and "schema_version" not in row
    assert (row["direction"], row["status"], row["provider_status"]) == ("outbound", "completed", None)
    assert (row["duration_s"], row["cost"], row["currency"]) == (48, Decimal("4.800"), "KES")
    assert row["inputs"] == {"rating": "4"} and row["session_data"] == {"firstName": "Amina"}


def test_a_refused_dial_is_a_failed_call_of_zero_seconds():
    row = row_from_rejected_dial(dial_attempt())
    assert row["call_key"] == "africastalking:rejected:c-1"  # never collides with a real session
    assert (row["status"], row["duration_s"], row["started_at"]) == ("failed", 0, None)
    assert row["hangup_cause"] == row["provider_status"] == "InvalidPhoneNumber"
    assert row["ended_at"] == datetime(2024, 5, 6, 9, 0, 1, tzinfo=UTC)
    assert (row["caller_number"], row["destination_number"]) == ("+254711000100", "+254700000002")
    assert (row["account"], row["flow_id"], row["campaign_id"]) == ("ke-ops", "survey", "survey-2024-05")


async def test_upsert_writes_then_overwrites_by_call_key(engine, cdrs):
    assert await upsert_cdrs(engine, [row_from_session(session_ended()), row_from_rejected_dial(dial_attempt())]) == 2
    first = await cdrs.fetchrow("SELECT * FROM cdrs WHERE call_key = 'africastalking:ATVId_example0002'")
    assert first["duration_s"] == 48 and first["status"] == "completed"
    await upsert_cdrs(engine, [row_from_session(session_ended(duration_s=50, status="busy"))])
    again = await cdrs.fetchrow("SELECT * FROM cdrs WHERE call_key = 'africastalking:ATVId_example0002'")
    assert (again["duration_s"], again["status"]) == (50, "busy")
    assert again["created_at"] == first["created_at"] and again["updated_at"] >= first["updated_at"]
    assert await cdrs.fetchval("SELECT count(*) FROM cdrs") == 2


async def test_replaying_a_batch_leaves_the_table_as_it_was(engine, cdrs):
    rows = [row_from_session(session_ended()), row_from_rejected_dial(dial_attempt())]
    await upsert_cdrs(engine, rows)
    before = [dict(r) for r in await cdrs.fetch("SELECT * FROM cdrs ORDER BY call_key")]
    await upsert_cdrs(engine, rows)
    after = [dict(r) for r in await cdrs.fetch("SELECT * FROM cdrs ORDER BY call_key")]
    assert [{**r, "updated_at": None} for r in after] == [{**r, "updated_at": None} for r in before]


async def test_within_a_batch_the_last_row_of_a_call_wins(engine, cdrs):
    rows = [row_from_session(session_ended(duration_s=10)), row_from_session(session_ended(duration_s=20))]
    assert await upsert_cdrs(engine, rows) == 1  # PostgreSQL refuses two conflicting rows in one INSERT
    assert await cdrs.fetchval("SELECT duration_s FROM cdrs") == 20


async def test_an_empty_batch_writes_nothing(engine, cdrs):
    assert await upsert_cdrs(engine, []) == 0
    assert await cdrs.fetchval("SELECT count(*) FROM cdrs") == 0
