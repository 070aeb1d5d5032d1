"""dialer settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from pydantic import Field

from switchboard.settings import ServiceSettings


class DialerSettings(ServiceSettings):
    """``SB_AT_BASE_URL``/``SB_AT_USERNAME``/``SB_AT_API_KEY``: the Africa's Talking account (the
    provider simulator locally). ``SB_AT_FROM_NUMBER``: the AT number calls are placed from (its
    callback URL in the AT dashboard must point at the ingress). ``SB_DIAL_CPS``: global cap on
    calls placed per second by this dialer. ``SB_DIALER_CONCURRENCY``: requests in flight at once.
    ``SB_FETCH_MAX_WAIT_MS``: broker-side fetch wait; an API request waits on this hop."""

    dialer_host: str = "127.0.0.1"
    dialer_port: int = 8082
    at_base_url: str = "https://voice.africastalking.com"
    at_username: str = "sandbox"
    at_api_key: str = "change-me"
    at_from_number: str = "+254711000100"
    dial_cps: float = Field(default=20.0, gt=0)
    dialer_concurrency: int = 8
    fetch_max_wait_ms: int = 20
