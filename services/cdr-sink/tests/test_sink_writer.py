"""The cdr-sink's writer: which database errors are the row's fault, and isolating those rows
against a real PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from asyncpg import exceptions as pg
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from switchboard.events import CallStatus, Direction, SessionEnded
from switchboard_cdr_sink.settings import CdrSinkSettings
from switchboard_cdr_sink.store import row_from_session
from switchboard_cdr_sink.writer import (
    BatchWriter,
    DatabaseUnavailable,
    Pending,
    SinkHealth,
    database_error,
    is_refusal,
    land,
    sqlstate_of,
)
from switchboard_devstack.stack import free_port


@pytest.mark.parametrize(
    "error",
    [
        pg.StringDataRightTruncationError("value too long for type character varying(64)"),
        pg.NumericValueOutOfRangeError("numeric field overflow"),
        pg.CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00'),
        pg.UntranslatableCharacterError("unsupported Unicode escape sequence"),
        pg.InvalidDatetimeFormatError("invalid input syntax for type timestamp"),
        pg.DataError("invalid input for query argument $13: 1099511627776 (value out of int32 range)"),
        pg.CheckViolationError('new row violates check constraint "x"'),
        pg.NotNullViolationError('null value in column "status"'),
        pg.ProgramLimitExceededError("index row size exceeds btree maximum"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_refusals_are_the_rows_fault(error):
    assert is_refusal(error)
    wrapped = DBAPIError("INSERT INTO cdrs …", {}, error)
    assert is_refusal(wrapped) and sqlstate_of(wrapped) == error.sqlstate


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
        OSError("network unreachable"),
        pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        pg.TooManyConnectionsError("sorry, too many clients already"),
        pg.CannotConnectNowError("the database system is starting up"),
        pg.AdminShutdownError("terminating connection due to administrator command"),
        pg.SerializationError("could not serialize access"),
        pg.DeadlockDetectedError("deadlock detected"),
        pg.DiskFullError("could not extend file"),
        pg.UndefinedTableError('relation "cdrs" does not exist'),
        pg.UndefinedColumnError('column "raw_invalid" does not exist'),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        RuntimeError("a bug"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_outages_and_unknown_errors_are_retried_not_dead_lettered(error):
    assert not is_refusal(error)
    assert not is_refusal(DBAPIError("INSERT INTO cdrs …", {}, error))


def test_database_error_names_the_driver_error_without_the_batch():
    wrapped = DBAPIError("INSERT INTO cdrs VALUES ($1)", {"secret": "row data"}, pg.NumericValueOutOfRangeError("x"))
    assert database_error(wrapped) == ("NumericValueOutOfRangeError", "x")


def session(key: str, **changes: Any) -> dict[str, Any]:
    """A CDR row as the sink builds it, with ``changes`` applied to the row (past the model, as
    an older producer or a looser schema would have let through)."""
    ended = SessionEnded(
        call_key=key,
        call_id="c-" + key[-8:],
        provider="africastalking",
        direction=Direction.INBOUND,
        caller_number="+254700000001",
        destination_number="+254711000200",
        status=CallStatus.COMPLETED,
        hangup_cause="NORMAL_CLEARING",
        ended_at=datetime(2024, 5, 6, 9, 31, tzinfo=UTC),
        duration_s=48,
        cost=Decimal("4.8"),
        currency="KES",
        inputs={"menu": "1"},
    )
    return {**row_from_session(ended), **changes}


# Rows PostgreSQL refuses (out of the columns' bounds), with the SQLSTATE it answers.
POISON = [
    ({"hangup_cause": "X" * 100}, "22001"),
    ({"currency": "KESKESKESKES"}, "22001"),
    ({"cost": Decimal("1e20")}, "22003"),
    ({"duration_s": 2**40}, "22000"),  # asyncpg refuses it for the int4 column before sending
    ({"flow_error": "boom\x00"}, "22021"),
]


async def stored(url: str, prefix: str) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT * FROM cdrs WHERE call_key LIKE $1", prefix + "%")
        return {row["call_key"]: dict(row) for row in rows}
    finally:
        await conn.close()


@pytest.mark.integration
async def test_refused_rows_are_isolated_and_every_other_row_lands(pg):
    prefix = f"at:iso-{random.getrandbits(32):08x}:"
    good = [Pending(f"good-{i}", session(f"{prefix}g{i:04d}", duration_s=i)) for i in range(500)]
    bad = [Pending(f"bad-{i}", session(f"{prefix}b{i}", **change)) for i, (change, _) in enumerate(POISON)]
    items = list(good)
    for position, item in zip(random.sample(range(len(good)), len(bad)), bad, strict=True):
        items.insert(position, item)
    engine = create_async_engine(pg.config.database_url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        refused = await land(engine, items)
    finally:
        await engine.dispose()
    assert sorted(r.pending.record for r in refused) == sorted(b.record for b in bad)
    assert {r.pending.record: sqlstate_of(r.error) for r in refused} == {
        f"bad-{i}": state for i, (_, state) in enumerate(POISON)
    }
    rows = await stored(pg.config.database_url, prefix)
    assert set(rows) == {g.row["call_key"] for g in good}
    assert all(rows[g.row["call_key"]]["duration_s"] == g.row["duration_s"] for g in good)


@pytest.mark.integration
async def test_a_later_refused_copy_does_not_hide_an_earlier_good_one(pg):
    """Two rows for one call in a batch, the second refused: the first lands, as one by one."""
    prefix = f"at:dup-{random.getrandbits(32):08x}:"
    first = Pending("first", session(f"{prefix}k", duration_s=7))
    second = Pending("second", session(f"{prefix}k", currency="TOO-LONG-CODE"))
    engine = create_async_engine(pg.config.database_url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        refused = await land(engine, [first, second])
    finally:
        await engine.dispose()
    assert [r.pending.record for r in refused] == ["second"]
    assert (await stored(pg.config.database_url, prefix))[f"{prefix}k"]["duration_s"] == 7


@pytest.mark.integration
async def test_session_ended_at_every_bound_is_a_row_postgresql_accepts(pg):
    """The event schema's bounds are the table's: the largest values it accepts land."""
    prefix = f"at:edge-{random.getrandbits(32):08x}:"
    key = prefix + "k" * (200 - len(prefix) - 1) + "z"
    edge = SessionEnded(
        call_key=key,
        call_id="c" * 64,
        provider="p" * 32,
        account="a" * 64,
        direction=Direction.OUTBOUND,
        caller_number="1" * 64,
        destination_number="2" * 64,
        status=CallStatus.COMPLETED,
        hangup_cause="H" * 64,
        hangup_cause_raw="R" * 64,
        started_at=datetime(1970, 1, 1, 14, tzinfo=timezone(timedelta(hours=14))),
        ended_at=datetime(2999, 12, 31, 9, 59, 59, tzinfo=timezone(-timedelta(hours=14))),
        duration_s=7 * 24 * 3600,
        cost=Decimal("9999999999.9999"),
        currency="USD",
        flow_id="f" * 128,
        flow_version="v" * 64,
        campaign_id="c" * 128,
        attempt=2**31 - 1,
        inputs={"m\x00": "1\x00"},
        session_data={"deep": [{"x\x00": "y\x00"}]},
        flow_error="e\x00" * 1000,
        raw_invalid={"hangupCause": "X" * 1024},
    )
    engine = create_async_engine(pg.config.database_url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        assert await land(engine, [Pending("edge", row_from_session(edge))]) == []
    finally:
        await engine.dispose()
    row = (await stored(pg.config.database_url, prefix))[key]
    assert row["cost"] == Decimal("9999999999.9999") and row["duration_s"] == 7 * 24 * 3600


async def test_an_unreachable_database_is_retried_then_handed_back_never_refused():
    engine = create_async_engine(f"postgresql+asyncpg://switchboard@127.0.0.1:{free_port()}/switchboard")
    health = SinkHealth()
    writer = BatchWriter(engine, health, budget_s=0.5, backoff_s=0.05)
    try:
        with pytest.raises(DatabaseUnavailable):
            await writer.write([Pending("r", session("at:unreachable:k"))])
    finally:
        await engine.dispose()
    assert health.state == "retrying" and health.retries >= 3 and health.retrying_for() > 0
    assert health.written == 0 and sum(health.dead_lettered.values()) == 0
    assert "ConnectionRefusedError" in (health.last_error or "") or "OSError" in (health.last_error or "")


def test_settings_bound_the_batch_and_keep_a_retry_within_the_poll_interval():
    biggest = CdrSinkSettings(cdr_batch_max=10_000, transient_retry_s=240)
    assert biggest.cdr_batch_max == 10_000  # COPY has no bind-parameter limit
    for bad in ({"cdr_batch_max": 10_001}, {"cdr_batch_max": 0}, {"transient_retry_s": 241}, {"transient_retry_s": -1}):
        with pytest.raises(ValidationError):
            CdrSinkSettings(**bad)
