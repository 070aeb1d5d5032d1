"""The Africa's Talking account a service uses (environment, ``SB_AT_`` names).

``SB_AT_BASE_URL`` (the simulator locally; unset or empty: derived from the username as the
official SDK does, ``sandbox`` → ``https://voice.sandbox.africastalking.com``, any other →
``https://voice.africastalking.com``, africastalking.md §8), ``SB_AT_USERNAME``, ``SB_AT_API_KEY``
and ``SB_AT_FROM_NUMBER`` (the AT number calls are placed from; its callback URL in the AT
dashboard must point at the ingress).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr

from switchboard.settings import ServiceSettings

if TYPE_CHECKING:
    from switchboard.providers.africastalking.client import AfricasTalkingClient


class AfricasTalkingSettings(ServiceSettings):
    at_base_url: str = ""  # empty: derived from at_username (client.base_url_for)
    at_username: str = "sandbox"
    at_api_key: SecretStr = SecretStr("change-me")
    at_from_number: str = "+254711000100"

    def at_client(self) -> AfricasTalkingClient:
        """A REST client for this account (the caller closes it)."""
        from switchboard.providers.africastalking.client import AfricasTalkingClient

        return AfricasTalkingClient(self.at_base_url or None, self.at_username, self.at_api_key.get_secret_value())
