"""dialer settings (environment, ``SB_`` prefix)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from switchboard.providers.africastalking.settings import AfricasTalkingSettings


class DialerSettings(AfricasTalkingSettings):
    """The Africa's Talking account: see :class:`AfricasTalkingSettings`. ``SB_DIAL_CPS``: global cap on
    calls placed per second by this dialer. ``SB_DIALER_CONCURRENCY``: requests in flight at once.
    ``SB_FETCH_MAX_WAIT_MS``: broker-side fetch wait; an API request waits on this hop.
    ``SB_VOX_BASE_URL``/``SB_VOX_API_KEY``/``SB_VOX_FROM_NUMBER``: the Voxology account (unset base
    URL: no Voxology calls)."""

    dialer_host: str = "127.0.0.1"
    dialer_port: int = 8082
    dial_cps: float = Field(default=20.0, gt=0)
    dialer_concurrency: int = 8
    vox_base_url: str | None = None
    vox_api_key: SecretStr = SecretStr("change-me")
    vox_from_number: str = "+15550000100"
    ts_base_url: str | None = None
    ts_customer_id: str = "change-me"
    ts_api_key: SecretStr = SecretStr("change-me")
    ts_from_number: str = "+15550000900"
    fetch_max_wait_ms: int = 20
