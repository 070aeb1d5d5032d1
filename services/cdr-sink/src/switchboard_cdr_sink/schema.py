"""The ``cdrs`` table (SQLAlchemy Core). Changes go through an Alembic migration in
``migrations/versions`` as well.

One row per call, keyed by ``call_key`` (``<provider>:<provider session id>``; for a dial the
provider refused, ``<provider>:rejected:<call id>``). Partitioned by month of ``call_start``
(migration 0005): the primary key is ``(call_key, call_start)`` because PostgreSQL requires the
partition column in it, and ``call_start`` is fixed per call by :data:`cdr_calls` (the first time
the sink sees a call key it records its start there; every later copy of that call takes the
recorded value, so a redelivered event whose times differ still updates the one row).
Durations in seconds; ``cost`` in ``currency`` (ISO 4217) as the provider reported it.
``raw_invalid``: the final notification's out-of-bounds
fields (provider field name → raw value), null in their columns.

The column bounds are those of :class:`switchboard.events.SessionEnded`; change both together.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

cdrs = Table(
    "cdrs",
    metadata,
    Column("call_key", String(200), primary_key=True),
    Column("call_start", DateTime(timezone=True), primary_key=True),
    Column("call_id", String(64), index=True),
    Column("provider", String(32), nullable=False),
    Column("account", String(64), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("caller_number", String(64), nullable=False),
    Column("destination_number", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("hangup_cause", String(64)),
    Column("hangup_cause_raw", String(64)),
    Column("started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True), nullable=False, index=True),
    Column("duration_s", Integer, nullable=False),
    Column("cost", Numeric(14, 4)),
    Column("currency", String(8)),
    Column("flow_id", String(2048)),  # a flow name or a dynamic flow's URL
    Column("flow_version", String(64)),
    Column("campaign_id", String(128), index=True),
    Column("attempt", Integer),
    Column("inputs", JSONB, nullable=False),
    Column("recordings", JSONB, nullable=False),
    Column("session_data", JSONB, nullable=False),
    Column("flow_error", Text),
    Column("provider_status", String(200)),
    Column("raw_invalid", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("tenant_id", String(64), nullable=False, server_default="default", index=True),
    Column("trail", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
)

cdr_calls = Table(
    "cdr_calls",
    metadata,
    Column("call_key", String(200), primary_key=True),
    Column("call_start", DateTime(timezone=True), nullable=False),
)
"""Each call key's partition time, fixed on first sight (``started_at``, else ``ended_at``, of the
first copy landed). Rows older than the retention go with their partitions."""
