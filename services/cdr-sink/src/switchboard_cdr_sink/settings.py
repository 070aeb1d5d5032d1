"""cdr-sink settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from pydantic import Field

from switchboard.settings import ServiceSettings


class CdrSinkSettings(ServiceSettings):
    """``SB_DATABASE_URL``: PostgreSQL, as ``postgresql://user@host:port/db``.
    ``SB_CDR_BATCH_MAX``/``SB_CDR_BATCH_TIMEOUT_MS``: how many events one transaction takes at most
    (default 2,000, at most 10,000: rows are COPYed, so no bind-parameter limit applies; a larger
    batch costs a longer bisection when one row is refused) and how long a batch waits to fill (ms).

    ``SB_CDR_PARTITIONS_AHEAD`` (months, default 2), ``SB_CDR_RETENTION_MONTHS`` (months, default 0
    = keep every partition), ``SB_CDR_PARTITION_CHECK_S`` (seconds between checks, default a day):
    the monthly partitions of ``cdrs`` the sink creates ahead and drops (``partitions.py``).

    ``SB_CDR_PUBLISH`` (default true): publish each committed CDR to ``voice.cdrs``
    (:class:`switchboard.events.CdrRecorded`) before the batch's offsets are committed.

    ``SB_TRANSIENT_RETRY_S`` (seconds, default 30; the setting every consumer shares, here at
    most 240): how long a batch retries a database outage
    (connection refused or lost, too many connections, serialization failure …) before it is
    handed back to Kafka uncommitted, read again and retried again. Records are never
    dead-lettered for an outage, however long; the partition waits. Once an outage has lasted this
    long, ``/ready`` answers 503 (``sink: false``, ``state: retrying``) until a batch lands. At
    most 240 s, so a batch returns to the consumer within Kafka's ``max.poll.interval.ms`` (300 s).
    """

    sink_host: str = "127.0.0.1"
    sink_port: int = 8083
    database_url: str = "postgresql://switchboard@127.0.0.1:5432/switchboard"
    cdr_batch_max: int = Field(default=2000, ge=1, le=10_000)
    cdr_batch_timeout_ms: int = 200
    transient_retry_s: float = Field(default=30.0, ge=0, le=240)
    cdr_publish: bool = True
    cdr_partitions_ahead: int = Field(default=2, ge=0, le=24)
    cdr_retention_months: int = Field(default=0, ge=0)
    cdr_partition_check_s: float = Field(default=86_400.0, gt=0)

    @property
    def async_database_url(self) -> str:
        """The SQLAlchemy URL for the asyncpg driver."""
        return self.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
