"""flow-runner settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from pydantic import Field

from switchboard.flow.actions.base import EngineSettings
from switchboard.settings import ServiceSettings


class FlowRunnerSettings(ServiceSettings):
    """``SB_FLOWS_DIR``: flow documents and ``routes.yaml``. ``SB_CALLBACK_URL``: the public URL of
    the ingress's AT callback endpoint, put in ``GetDigits`` callback URLs (None: left out).
    ``SB_OUTBOUND_STATE_WAIT_S``: how long an outbound call's first callback waits for the state the
    dialer writes (they race). ``SB_RUNNER_CONCURRENCY``: Kafka consumers this process runs in the
    group, each taking a share of the partitions and handling one event at a time (so at most this
    many events at once, and no more than the topic has partitions).
    ``SB_RUNNER_FETCH_WAIT_MS``: how long a fetch may wait for data at the broker (default: 500 ms
    where the broker long-polls, 5 ms on Tansu, which answers an empty fetch only when the wait runs
    out: a caller waits on this hop, so there an idle consumer polls 200 times a second).
    ``SB_COMMIT_INTERVAL_S``: processed offsets are committed this often, not once per message.
    ``SB_RUNNER_SESSION_TIMEOUT_MS`` (6 s, Apache Kafka's default minimum; the client's own is 10 s)
    and ``SB_RUNNER_HEARTBEAT_MS`` (500 ms): a runner that died is noticed, and its partitions
    handed over, within the session timeout plus a rebalance, while its callers hear the hold
    (``SB_FALLBACK_MAX_HOLD_S`` on the ingress must cover both and a restart: docs/operations.md).
    Limits (FLOW-LANGUAGE.md): ``SB_ACTION_BUDGET`` actions per callback, ``SB_FOREACH_CAP`` items per
    FOREACH, ``SB_MAX_DEPTH`` nesting, ``SB_WEBHOOK_TIMEOUT_MS`` and ``SB_WEBHOOK_MAX_BYTES`` per
    request, ``SB_MAX_FETCHES`` requests per callback.
    ``SB_DIAL_GUARD`` (default true): check a flow's DIAL and TRANSFER destinations against the
    tenant's toll-fraud policy, read from ``SB_DATABASE_URL`` (``tenants.policy``) and kept
    ``SB_POLICY_TTL_S`` seconds (:mod:`switchboard_flow_runner.policies`; fails closed)."""

    runner_host: str = "127.0.0.1"
    runner_port: int = 8081
    flows_dir: Path = Path("flows")
    callback_url: str | None = None
    outbound_state_wait_s: float = 2.0
    # The engine's limits and wording, settable from the environment; defaults are the engine's own.
    action_budget: int = EngineSettings.action_budget
    foreach_cap: int = EngineSettings.foreach_cap
    max_depth: int = EngineSettings.max_depth
    webhook_timeout_ms: int = EngineSettings.webhook_timeout_ms
    webhook_max_bytes: int = EngineSettings.webhook_max_bytes
    max_fetches: int = EngineSettings.max_fetches
    error_message: str = EngineSettings.error_message
    runner_concurrency: int = 8
    runner_fetch_wait_ms: int | None = Field(default=None, ge=1)
    runner_session_timeout_ms: int = Field(default=6000, ge=1000)
    runner_heartbeat_ms: int = Field(default=500, ge=100)

    @property
    def fetch_max_wait_ms(self) -> int:
        """The fetch wait in force (``SB_RUNNER_FETCH_WAIT_MS`` or the broker's default)."""
        return self.runner_fetch_wait_ms or (500 if self.kafka_long_poll else 5)

    commit_interval_s: float = 0.1
    dial_guard: bool = True
    database_url: str = "postgresql://switchboard@127.0.0.1:5432/switchboard"
    policy_ttl_s: float = Field(default=30.0, gt=0)

    def engine(self) -> EngineSettings:
        """The flow engine's limits and wording from these settings (every EngineSettings field)."""
        return EngineSettings(
            **{f.name: getattr(self, f.name) for f in fields(EngineSettings) if f.name != "dial_guard"}
        )
