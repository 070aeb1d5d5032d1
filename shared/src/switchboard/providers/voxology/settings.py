"""The Voxology account a service uses: ``SB_VOX_BASE_URL``, ``SB_VOX_API_KEY``, ``SB_VOX_FROM_NUMBER``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from switchboard.providers.voxology.client import VoxologyClient


class VoxologySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SB_VOX_", extra="ignore")

    base_url: str = "https://api.voxolo.gy"
    api_key: SecretStr = SecretStr("change-me")
    from_number: str = "+15550000100"

    def client(self) -> VoxologyClient:
        from switchboard.providers.voxology.client import VoxologyClient

        return VoxologyClient(self.base_url, self.api_key.get_secret_value())
