"""cdr-sink settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from switchboard.settings import ServiceSettings


class CdrSinkSettings(ServiceSettings):
    """``SB_DATABASE_URL``: PostgreSQL, as ``postgresql://user@host:port/db``.
    ``SB_CDR_BATCH_MAX``/``SB_CDR_BATCH_TIMEOUT_MS``: how many events one transaction takes at most
    and how long a batch waits to fill."""

    sink_host: str = "127.0.0.1"
    sink_port: int = 8083
    database_url: str = "postgresql://switchboard@127.0.0.1:5432/switchboard"
    cdr_batch_max: int = 500
    cdr_batch_timeout_ms: int = 200

    @property
    def async_database_url(self) -> str:
        """The SQLAlchemy URL for the asyncpg driver."""
        return self.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
