"""notifier settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from pydantic import Field

from switchboard.settings import StatusCallbackSettings


class NotifierSettings(StatusCallbackSettings):
    """``SB_STATUS_CALLBACK_SECRET`` (shared settings): the platform secret each tenant's signing
    key derives from. ``SB_NOTIFY_TIMEOUT_S``: a customer's server gets this long to answer one POST.
    ``SB_NOTIFY_GIVE_UP_S``: a callback not delivered this long after it was queued goes to
    ``voice.status-callbacks.dlq`` (default 1 h). ``SB_NOTIFY_BACKOFF_INITIAL_S`` /
    ``SB_NOTIFY_BACKOFF_MAX_S``: exponential backoff with jitter between tries (tenacity's
    ``wait_exponential_jitter``). ``SB_NOTIFY_CONCURRENCY``: POSTs in flight at once.
    ``SB_NOTIFY_POLL_S``: how often due callbacks are looked for. ``SB_NOTIFY_ALLOW_PRIVATE``:
    allow URLs that resolve to loopback, private or link-local addresses (off by default: a tenant
    must not reach the platform's own network; the local stack turns it on)."""

    notifier_host: str = "127.0.0.1"
    notifier_port: int = 8085
    notify_timeout_s: float = Field(default=5.0, gt=0, le=60)
    notify_give_up_s: float = Field(default=3600.0, gt=0)
    notify_backoff_initial_s: float = Field(default=1.0, gt=0)
    notify_backoff_max_s: float = Field(default=300.0, gt=0)
    notify_concurrency: int = Field(default=64, ge=1, le=1024)
    notify_poll_s: float = Field(default=0.2, gt=0, le=10)
    notify_allow_private: bool = False
