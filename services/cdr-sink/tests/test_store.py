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


def test_a_session_row_is_the_events_dump_with_plain_values():
    event = session_ended(
        campaign_id="c-9",
        attempt=2,
        recordings=["https://r.example/1.mp3"],
        flow_error="boom",
        raw_invalid={"dtmf": "x"},
        trail=[{"k": "cb", "t": 0}],
    )
    dumped = event.model_dump(exclude={"schema_version"}, mode="python")
    dumped.update(direction="outbound", status="completed", provider_status=None)
    assert row_from_session(event) == dumped


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


async def test_a_redelivered_call_whose_times_differ_updates_its_one_row(engine, cdrs):
    """The partition time is fixed by the first copy (cdr_calls): a later copy of the same call
    with its start a month later still lands on the one row, not a second one in another month."""
    first = session_ended(started_at=datetime(2024, 5, 31, 23, 59, tzinfo=UTC), duration_s=48)
    later = session_ended(
        started_at=datetime(2024, 6, 1, 0, 1, tzinfo=UTC), ended_at=datetime(2024, 6, 1, 0, 2, tzinfo=UTC)
    )
    await upsert_cdrs(engine, [row_from_session(first)])
    await upsert_cdrs(engine, [row_from_session(later)])
    rows = await cdrs.fetch("SELECT call_start, started_at FROM cdrs WHERE call_key = $1", first.call_key)
    assert len(rows) == 1
    assert rows[0]["call_start"] == datetime(2024, 5, 31, 23, 59, tzinfo=UTC)
    assert rows[0]["started_at"] == datetime(2024, 6, 1, 0, 1, tzinfo=UTC)  # the later copy's values


async def test_partitions_are_created_ahead_rows_move_out_of_default_and_old_ones_are_dropped(engine, cdrs):
    from datetime import date

    from switchboard_cdr_sink.partitions import existing, maintain

    await cdrs.execute("TRUNCATE cdr_calls")
    for name in await existing(cdrs):
        if name < "cdrs_y2031":
            await cdrs.execute(f"DROP TABLE {name}")
    # a row for March 2031 before its partition exists lands in the default partition
    await upsert_cdrs(engine, [row_from_session(session_ended(started_at=datetime(2031, 3, 9, tzinfo=UTC)))])
    assert await cdrs.fetchval("SELECT count(*) FROM cdrs_default") == 1
    done = await maintain(cdrs, ahead=2, today=date(2031, 2, 14))
    assert done.created == ["cdrs_y2031m02", "cdrs_y2031m03", "cdrs_y2031m04"]
    assert await cdrs.fetchval("SELECT count(*) FROM cdrs_default") == 0
    assert await cdrs.fetchval("SELECT count(*) FROM cdrs_y2031m03") == 1
    assert (await maintain(cdrs, ahead=2, today=date(2031, 2, 14))).created == []  # idempotent
    # retention of 1 month on 2031-05-02: every month ending on or before 2031-04-01 goes
    done = await maintain(cdrs, ahead=0, retention_months=1, today=date(2031, 5, 2))
    assert done.created == ["cdrs_y2031m05"]
    assert "cdrs_y2031m03" in done.dropped and "cdrs_y2031m04" not in done.dropped
    assert await cdrs.fetchval("SELECT count(*) FROM cdrs") == 0
    assert await cdrs.fetchval("SELECT count(*) FROM cdr_calls") == 0
    for name in done.created:
        await cdrs.execute(f"DROP TABLE {name}")
    await cdrs.execute("DROP TABLE IF EXISTS cdrs_y2031m04")
