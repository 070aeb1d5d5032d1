"""dialer settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from pydantic import Field

from switchboard.settings import ServiceSettings


class DialerSettings(ServiceSettings):
    """``SB_DIAL_CPS``: global cap on
    calls placed per second by this dialer. ``SB_DIALER_CONCURRENCY``: requests in flight at once.
    ``SB_DIALER_FETCH_WAIT_MS``: broker-side fetch wait (default: 500 ms where the broker long-polls,
    100 ms on Tansu, where an idle consumer polls at that rate and a request waits up to it).
    Provider accounts (all providers, named ones too): :mod:`switchboard.accounts`."""

    dialer_host: str = "127.0.0.1"
    dialer_port: int = 8082
    dial_cps: float = Field(default=20.0, gt=0)
    dialer_concurrency: int = 8
    dialer_fetch_wait_ms: int | None = Field(default=None, ge=1)

    @property
    def fetch_max_wait_ms(self) -> int:
        """The fetch wait in force (``SB_DIALER_FETCH_WAIT_MS`` or the broker's default)."""
        return self.dialer_fetch_wait_ms or (500 if self.kafka_long_poll else 100)
