"""The Telesign account: ``SB_TS_BASE_URL``, ``SB_TS_CUSTOMER_ID``, ``SB_TS_API_KEY`` (base64, as
Telesign issues it; also the callback-signature key), ``SB_TS_FROM_NUMBER``."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelesignSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SB_TS_", extra="ignore")

    base_url: str | None = None
    customer_id: str = "change-me"
    api_key: SecretStr | None = None
    from_number: str = "+15550000900"
