"""dialer settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from switchboard.settings import ServiceSettings


class DialerSettings(ServiceSettings):
    """``SB_DIAL_CPS``: calls per second on a provider account that names no ``cps`` of its own
    (shared by every replica: :mod:`switchboard.pacing`). ``SB_PACE_HEADROOM``: calls are spaced
    ``(1 + headroom) / cps`` apart, so the delivery jitter between the dialer and the provider does
    not put more than ``cps`` calls in one of the provider's seconds (default 0.015: 1.5 % under the
    rate; docs/dialer.md).
    ``SB_PACE_MAX_AHEAD_S``: the furthest ahead a pace slot is reserved. ``SB_DIALER_ADMIT_POLL_S``:
    how often a request waiting for a live-call slot asks again. ``SB_CALL_LEASE_S`` (shared): a
    lease's life when the call's end is never seen. ``SB_DIAL_UNCONFIRMED_LEASE_S``: how long, from
    its redelivery, a request whose placement a replica began and never recorded (it died between
    claiming the request and linking the provider's call) keeps its leases (default 180 s: longer
    than the longest ring, 120 s, plus the flow-runner's hang-up of a call it has no state for).
    ``SB_DIAL_RECORD_RETRY_S``: how long the writes that record an accepted call (state, link) are
    retried on a Redis error before the request is left to a redelivery (default 30 s).
    ``SB_DIALER_CONCURRENCY``: requests in flight at once.
    ``SB_DIALER_SESSION_TIMEOUT_MS``: how soon the consumer groups give a dead replica's partitions
    to the others (6 s, Apache Kafka's default minimum; the client's own default is 10 s): until
    then the calls whose ends sit on its ``voice.sessions-ended`` partitions keep their leases,
    unless ``SB_DIALER_BROADCAST_ENDS`` (default on) has every replica read every end as well
    (:mod:`switchboard_dialer.ends`). ``SB_DIALER_HEARTBEAT_MS``: how often a replica's consumers
    heartbeat (500 ms): a survivor learns of a rebalance at its next heartbeat and places nothing
    new until it has rejoined, so this bounds part of the pause when a replica dies.
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
    flows_dir: Path = Path("flows")
    live_calls_every_s: float = Field(default=5.0, gt=0)
    """``SB_LIVE_CALLS_EVERY_S``: how often the ``switchboard_live_calls`` gauge is read from Redis."""
    """``SB_FLOWS_DIR``: the flows, for providers whose calls are their flow compiled into one
    message (Infobip): the dialer compiles them when it places the call."""
    dial_cps: float = Field(default=20.0, gt=0)
    pace_headroom: float = Field(default=0.015, ge=0, le=0.5)
    pace_max_ahead_s: float = Field(default=2.0, gt=0)
    dialer_admit_poll_s: float = Field(default=0.1, gt=0)
    dial_unconfirmed_lease_s: float = Field(default=180.0, gt=0)
    dial_record_retry_s: float = Field(default=30.0, ge=0)
    dialer_session_timeout_ms: int = Field(default=6000, ge=1000)
    dialer_heartbeat_ms: int = Field(default=500, ge=100)
    dialer_broadcast_ends: bool = True
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
