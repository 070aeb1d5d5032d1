"""Provider accounts and their credentials (issue 4: a route and a dial request name the provider
and the account).

Each provider's ``default`` account comes from its own settings (``SB_AT_*``, ``SB_VOX_*``,
``SB_TS_*``); more accounts come from ``SB_ACCOUNTS``, a JSON object
``{"<provider>": {"<account>": {"base_url": .., "api_key": .., "from_number": .., "username": ..,
"customer_id": ..}}}`` (mount it from a secret in production). :class:`ProviderClients` hands out one
REST client per (provider, account), made on first use.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard.providers import ProviderName
from switchboard.providers.africastalking import AfricasTalkingClient
from switchboard.providers.africastalking.settings import AfricasTalkingSettings
from switchboard.providers.telesign import TelesignClient
from switchboard.providers.telesign.settings import TelesignSettings
from switchboard.providers.voxology import VoxologyClient
from switchboard.providers.voxology.settings import VoxologySettings


class Account(BaseModel):
    """One provider account. ``username``: Africa's Talking's; ``customer_id``: Telesign's;
    ``api_key``: the secret (Telesign's is base64 and also verifies its events)."""

    provider: ProviderName
    name: str = "default"
    base_url: str
    api_key: SecretStr
    from_number: str
    username: str | None = None
    customer_id: str | None = None


class _Extra(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SB_", extra="ignore")
    accounts: dict[str, dict[str, dict[str, Any]]] = {}


def load_accounts() -> dict[tuple[str, str], Account]:
    """Every configured account, keyed by ``(provider, account name)``. Raises pydantic's
    ``ValidationError`` for a malformed ``SB_ACCOUNTS``."""
    at, vox, ts = AfricasTalkingSettings(), VoxologySettings(), TelesignSettings()
    found = [
        Account(
            provider="africastalking",
            base_url=at.at_base_url,
            api_key=at.at_api_key,
            from_number=at.at_from_number,
            username=at.at_username,
        )
    ]
    if vox.base_url:
        found.append(
            Account(provider="voxology", base_url=vox.base_url, api_key=vox.api_key, from_number=vox.from_number)
        )
    if ts.base_url and ts.api_key:
        found.append(
            Account(
                provider="telesign",
                base_url=ts.base_url,
                api_key=ts.api_key,
                from_number=ts.from_number,
                customer_id=ts.customer_id,
            )
        )
    for provider, names in _Extra().accounts.items():
        found += [
            Account.model_validate({**fields, "provider": provider, "name": name}) for name, fields in names.items()
        ]
    return {(a.provider, a.name): a for a in found}


class ProviderClients:
    """REST clients per (provider, account), made on first use; :meth:`aclose` closes them all."""

    def __init__(self, accounts: dict[tuple[str, str], Account] | None = None) -> None:
        self.accounts = load_accounts() if accounts is None else accounts
        self._clients: dict[tuple[str, str], Any] = {}

    def account(self, provider: str, name: str) -> Account | None:
        return self.accounts.get((provider, name))

    def client(self, provider: str, name: str) -> Any:
        """The client for ``(provider, name)``, or None when no such account is configured."""
        account = self.account(provider, name)
        if account is None:
            return None
        if (provider, name) not in self._clients:
            key = account.api_key.get_secret_value()
            if provider == "africastalking":
                client: Any = AfricasTalkingClient(account.base_url, account.username or "sandbox", key)
            elif provider == "voxology":
                client = VoxologyClient(account.base_url, key)
            else:
                client = TelesignClient(account.base_url, account.customer_id or "", key)
            self._clients[(provider, name)] = client
        return self._clients[(provider, name)]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
