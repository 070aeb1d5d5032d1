"""The default Voxology account: ``SB_VOX_BASE_URL`` (live ``https://api.voxolo.gy``; unset: no
Voxology), ``SB_VOX_API_KEY``, ``SB_VOX_FROM_NUMBER``."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class VoxologySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SB_VOX_", extra="ignore")

    base_url: str | None = None
    api_key: SecretStr = SecretStr("change-me")
    from_number: str = "+15550000100"
