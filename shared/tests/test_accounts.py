"""The account registry: defaults from each provider's settings, named accounts from SB_ACCOUNTS."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from switchboard.accounts import ProviderClients, load_accounts
from switchboard.providers.africastalking import AfricasTalkingClient
from switchboard.providers.voxology import VoxologyClient


def test_defaults_and_named_accounts(monkeypatch):
    monkeypatch.setenv("SB_AT_API_KEY", "k1")
    monkeypatch.setenv("SB_VOX_BASE_URL", "https://vox.test")
    monkeypatch.delenv("SB_TS_BASE_URL", raising=False)
    monkeypatch.setenv(
        "SB_ACCOUNTS",
        json.dumps(
            {
                "africastalking": {
                    "ug": {
                        "base_url": "https://at.test",
                        "username": "ug-app",
                        "api_key": "k2",
                        "from_number": "+256700000001",
                    }
                }
            }
        ),
    )
    accounts = load_accounts()
    assert set(accounts) == {("africastalking", "default"), ("voxology", "default"), ("africastalking", "ug")}
    assert accounts[("africastalking", "ug")].username == "ug-app"
    clients = ProviderClients(accounts)
    assert isinstance(clients.client("africastalking", "ug"), AfricasTalkingClient)
    assert clients.client("africastalking", "ug") is clients.client("africastalking", "ug")
    assert isinstance(clients.client("voxology", "default"), VoxologyClient)
    assert clients.client("telesign", "default") is None and clients.account("africastalking", "nope") is None


def test_malformed_accounts_are_refused(monkeypatch):
    monkeypatch.setenv("SB_ACCOUNTS", json.dumps({"africastalking": {"x": {"base_url": "https://at.test"}}}))
    with pytest.raises(ValidationError):
        load_accounts()
