"""dialer settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from pydantic import Field

from switchboard.settings import ServiceSettings


class DialerSettings(ServiceSettings):
    """``SB_DIAL_CPS``: global cap on
    calls placed per second by this dialer. ``SB_DIALER_CONCURRENCY``: requests in flight at once.
    ``SB_DIALER_FETCH_WAIT_MS``: broker-side fetch wait (default: 500 ms where the broker long-polls,
    100 ms on Tansu, where an idle consumer polls at that rate and a request waits up to it).
    Provider accounts (all providers, named ones too): :mod:`switchboard.accounts`.

    Campaigns (:mod:`switchboard_dialer.campaigns`): ``SB_DATABASE_URL`` (PostgreSQL holding
    them), ``SB_CAMPAIGN_SCHEDULER`` (run the scheduler in this replica; default on),
    ``SB_CAMPAIGN_TICK_S`` (seconds between scheduler passes), ``SB_CAMPAIGN_HOPPER_S`` (seconds
    of calls taken at once per campaign), ``SB_CAMPAIGN_DEFAULT_CPS`` (a campaign's pace when its
    policy names none), ``SB_CAMPAIGN_ATTEMPT_TIMEOUT_S`` (an attempt without an end after this is
    closed as failed), ``SB_CAMPAIGN_REAP_S`` (how often that is checked), ``SB_DNC_MAX_AGE_DAYS``
    (a do-not-call list older than this is logged as stale)."""

    dialer_host: str = "127.0.0.1"
    dialer_port: int = 8082
    dial_cps: float = Field(default=20.0, gt=0)
    dialer_concurrency: int = 8
    dialer_fetch_wait_ms: int | None = Field(default=None, ge=1)
    database_url: str = "postgresql://switchboard@127.0.0.1:5432/switchboard"
    campaign_scheduler: bool = True
    campaign_tick_s: float = Field(default=0.5, gt=0)
    campaign_hopper_s: float = Field(default=2.0, gt=0, le=60)
    campaign_default_cps: float = Field(default=10.0, gt=0)
    campaign_attempt_timeout_s: float = Field(default=4 * 3600, ge=60)
    campaign_reap_s: float = Field(default=60.0, gt=0)
    dnc_max_age_days: int = Field(default=31, ge=1)

    @property
    def fetch_max_wait_ms(self) -> int:
        """The fetch wait in force (``SB_DIALER_FETCH_WAIT_MS`` or the broker's default)."""
        return self.dialer_fetch_wait_ms or (500 if self.kafka_long_poll else 100)
