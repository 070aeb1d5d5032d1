"""Typed settings shared by every service.

Each service subclasses :class:`ServiceSettings` with its own ``env_prefix`` and the fields it
needs. Values come from the environment (and a ``.env`` file if present); anything unsafe for
production is refused at start-up by :meth:`ServiceSettings.refuse_unsafe_production`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_STATUS_CALLBACK_SECRET = "dev-status-callback-secret"


class ServiceSettings(BaseSettings):
    """Settings every service reads.

    Environment variables (no prefix, shared by all services):
    ``SB_ENV`` (``dev``/``prod``), ``SB_KAFKA_BOOTSTRAP`` (``host:port[,host:port]``),
    ``SB_KAFKA_IDEMPOTENCE`` (bool; must be false on Tansu, which refuses ``InitProducerId``),
    ``SB_KAFKA_LONG_POLL``: whether the broker answers a fetch as soon as data arrives (Apache Kafka:
    true, the default) or only when the fetch wait runs out (Tansu: false, set by the local stack);
    the consumers' fetch waits default from it (short on Tansu for latency, long on Kafka for an idle
    stack that does not poll).
    ``SB_REDIS_URL``, ``SB_LOG_LEVEL``, ``SB_LOG_JSON`` (unset = JSON unless stderr is a TTY).
    Redis deadlines (seconds): ``SB_REDIS_CONNECT_TIMEOUT_S``, ``SB_REDIS_SOCKET_TIMEOUT_S`` (any
    one command; longer than the longest blocking wait), ``SB_REDIS_POOL_TIMEOUT_S`` (waiting for a
    free connection); ``SB_REDIS_HEALTH_CHECK_S``: idle connections are checked before use, so a
    restarted Redis is reconnected to. ``SB_TRANSIENT_RETRY_S``: how long a consumer retries a
    record whose dependency (Redis, the broker) is down before giving up on it.
    ``SB_MAX_BODY_BYTES``: HTTP request bodies over this many bytes get 413 before parsing.
    ``SB_CALL_LEASE_S``: how long a live-call lease (:mod:`switchboard.pacing`) counts when the
    call's end is never seen (a replica died, an end was lost): longer than the longest call plus
    the time its end takes to arrive.
    ``SB_DRAIN_S`` (30, at most 40: under Kubernetes' 45 s grace period): on SIGTERM, how long
    the requests in flight may take before the service shuts down (:func:`switchboard.entrypoint.serve`).
    ``SB_GC_THRESHOLDS`` (``gen0,gen1,gen2``, default ``10000,20,20``): the garbage collector's
    thresholds, set with the start-up heap frozen when the service starts
    (:func:`switchboard.service.settle_heap`).
    """

    model_config = SettingsConfigDict(env_prefix="SB_", extra="ignore", env_file=".env")

    env: Literal["dev", "test", "prod"] = "dev"
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_idempotence: bool = False
    kafka_partitions: int = Field(default=8, ge=1)
    kafka_long_poll: bool = Field(
        default=True,
        description="the broker answers a fetch as soon as data arrives (Apache Kafka); Tansu does not",
    )
    redis_url: str = "redis://127.0.0.1:6379/0"
    log_level: str = "INFO"
    log_json: bool | None = None
    consumer_max_retries: int = Field(default=3, ge=0, description="attempts before the DLQ")
    redis_connect_timeout_s: float = Field(default=1.0, gt=0)
    redis_socket_timeout_s: float = Field(default=5.0, gt=0)
    redis_pool_timeout_s: float = Field(default=2.0, gt=0)
    redis_health_check_s: int = Field(default=5, ge=0)
    transient_retry_s: float = Field(default=30.0, ge=0)
    max_body_bytes: int = Field(default=1 << 20, ge=1024, description="request bodies over this get 413")
    call_lease_s: float = Field(default=2 * 3600, gt=0, description="a live-call lease's life without an end")
    drain_s: float = Field(
        default=30.0, gt=0, le=40, description="on SIGTERM, how long requests in flight may take (s)"
    )

    @model_validator(mode="after")
    def refuse_unsafe_production(self) -> ServiceSettings:
        """Raise ``ValueError`` when ``env=prod`` is combined with dev-only values."""
        if self.env == "prod":
            if not self.kafka_idempotence:
                raise ValueError("SB_KAFKA_IDEMPOTENCE must be true in production (Apache Kafka)")
            if "127.0.0.1" in self.redis_url or "localhost" in self.redis_url:
                raise ValueError("SB_REDIS_URL points at loopback in production")

        return self


class StatusCallbackSettings(ServiceSettings):
    """``SB_STATUS_CALLBACK_SECRET``: the platform secret each tenant's status-callback signing key
    derives from (:func:`switchboard.status_callbacks.tenant_key`; the api shows a tenant its key,
    the notifier signs with it). Required in production (``ValueError`` otherwise)."""

    status_callback_secret: SecretStr = SecretStr(DEV_STATUS_CALLBACK_SECRET)

    @model_validator(mode="after")
    def refuse_dev_secret_in_production(self) -> StatusCallbackSettings:
        if self.env == "prod" and self.status_callback_secret.get_secret_value() == DEV_STATUS_CALLBACK_SECRET:
            raise ValueError("SB_STATUS_CALLBACK_SECRET must be set in production")
        return self
