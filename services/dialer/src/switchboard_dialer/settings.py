"""dialer settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from pydantic import Field

from switchboard.settings import ServiceSettings


class DialerSettings(ServiceSettings):
    """``SB_DIAL_CPS``: global cap on
    calls placed per second by this dialer. ``SB_DIALER_CONCURRENCY``: requests in flight at once.
    ``SB_FETCH_MAX_WAIT_MS``: broker-side fetch wait; an API request waits on this hop.
    Provider accounts (all providers, named ones too): :mod:`switchboard.accounts`."""

    dialer_host: str = "127.0.0.1"
    dialer_port: int = 8082
    dial_cps: float = Field(default=20.0, gt=0)
    dialer_concurrency: int = 8
    fetch_max_wait_ms: int = 20
