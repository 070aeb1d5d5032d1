"""Provider accounts and their credentials: a route and a dial request name the provider and the
account.

Each provider's ``default`` account comes from its own settings (``SB_AT_*``, ``SB_VOX_*``,
``SB_TS_*``; :meth:`~switchboard.providers.base.Provider.default_account`); more accounts come from
``SB_ACCOUNTS``, a JSON object ``{"<provider>": {"<account>": {"base_url": .., "api_key": ..,
"from_number": .., "username": .., "customer_id": .., "cps": .., "max_concurrent": ..}}}`` (mount
it from a secret in production; an entry named ``default`` replaces the settings' default account).
``cps`` and ``max_concurrent`` are the account's pacing and live-call cap, shared by every dialer
replica (:mod:`switchboard.pacing`).
:class:`ProviderClients` hands out one REST client per (provider, account), made on first use.
"""

from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard.providers import PROVIDERS
from switchboard.providers.base import Account, ProviderClient

__all__ = ["Account", "ProviderClients", "load_accounts"]


class _Extra(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SB_", extra="ignore")
    accounts: dict[str, dict[str, dict[str, Any]]] = {}


def load_accounts() -> dict[tuple[str, str], Account]:
    """Every configured account, keyed by ``(provider, account name)``. Raises ``ValueError``
    (pydantic's ``ValidationError``) for a malformed ``SB_ACCOUNTS`` or an unknown provider in it."""
    found = [a for p in PROVIDERS.values() if (a := p.default_account()) is not None]
    for provider, names in _Extra().accounts.items():
        if provider not in PROVIDERS:
            raise ValueError(f"SB_ACCOUNTS names unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
        found += [
            Account.model_validate({**fields, "provider": provider, "name": name}) for name, fields in names.items()
        ]
    return {(a.provider, a.name): a for a in found}


class ProviderClients:
    """REST clients per (provider, account), made on first use; :meth:`aclose` closes them all."""

    def __init__(self, accounts: dict[tuple[str, str], Account] | None = None) -> None:
        self.accounts = load_accounts() if accounts is None else accounts
        self._clients: dict[tuple[str, str], ProviderClient] = {}

    def account(self, provider: str, name: str) -> Account | None:
        return self.accounts.get((provider, name))

    def client(self, provider: str, name: str) -> ProviderClient | None:
        """The client for ``(provider, name)``, or None when no such account is configured."""
        account = self.account(provider, name)
        if account is None:
            return None
        if (provider, name) not in self._clients:
            self._clients[(provider, name)] = PROVIDERS[provider].client(account)
        return self._clients[(provider, name)]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
