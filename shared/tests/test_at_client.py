"""The AT REST client against the provider simulator (in-process through ASGI), not a stub."""

from __future__ import annotations

import httpx
import pytest

from switchboard.errors import ProviderError
from switchboard.providers.africastalking import AfricasTalkingClient
from switchboard_provider_sim.app import build_app
from switchboard_provider_sim.settings import SimSettings


@pytest.fixture
async def sim():
    settings = SimSettings(
        at_api_key="k",
        at_username="u",
        at_callback_url="http://127.0.0.1:9/none",
        at_events_url=None,
        speed=1000,
        answer_ratio=0,
        busy_ratio=1,
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def client(app, key="k", user="u") -> AfricasTalkingClient:
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sim",
        headers={"apiKey": key, "Accept": "application/json"},
    )
    return AfricasTalkingClient("http://sim", user, key, http=http)


async def test_call_queued_and_invalid_number(sim):
    async with client(sim) as at:
        result = await at.call(from_="+254711000100", to="+254700000001", client_request_id="cid-1")
        assert [(e.status, e.session_id is not None) for e in result.entries] == [("Queued", True)]
        assert result.entries[0].session_id.startswith("ATVId_")
        bad = await at.call(from_="+254711000100", to="0700-not-a-number")
        assert bad.entries[0].status == "InvalidPhoneNumber" and bad.entries[0].session_id is None
        assert bad.raw["entries"][0]["sessionId"] == "None"


async def test_media_upload_answer_carries_both_keys_and_is_judged_by_201(sim):
    # africastalking.md §2.4, §8: the docs give {"status": "Success"}, the official SDK's test
    # expects {"success": true}; the simulator emits both, the client judges by the 201 alone
    async with client(sim) as at:
        resp = await at._http.post(
            "/mediaUpload",
            data={"username": "u", "phoneNumber": "+254711000100", "url": "https://m.test/hold.mp3"},
        )
        assert resp.status_code == 201 and resp.json() == {"status": "Success", "success": True}
        await at.media_upload(phone_number="+254711000100", url="https://m.test/hold.wav")
        with pytest.raises(ProviderError) as info:
            await at.media_upload(phone_number="+254711000100", url="https://m.test/hold.ogg")
        assert info.value.status_code == 400


async def test_bad_api_key_is_a_provider_error(sim):
    async with client(sim, key="wrong") as at:
        with pytest.raises(ProviderError) as info:
            await at.call(from_="+254711000100", to="+254700000001")
        assert info.value.status_code == 401


async def test_unreachable_provider_is_a_provider_error_without_status():
    async with AfricasTalkingClient("http://127.0.0.1:9", "u", "k", timeout_s=1) as at:
        with pytest.raises(ProviderError) as info:
            await at.call(from_="+254711000100", to="+254700000001")
        assert info.value.status_code is None


@pytest.mark.parametrize(
    ("username", "base_url", "expected"),
    [
        ("sandbox", None, "https://voice.sandbox.africastalking.com"),
        ("sandbox", "", "https://voice.sandbox.africastalking.com"),
        ("acme-ke", None, "https://voice.africastalking.com"),
        ("sandbox", "http://127.0.0.1:8090/", "http://127.0.0.1:8090"),  # an explicit base URL wins
    ],
)
async def test_host_is_derived_from_the_username_as_the_official_sdk_does(username, base_url, expected):
    # africastalking.md §8: the SDK sends username "sandbox" to the sandbox host, any other to live
    async with AfricasTalkingClient(base_url, username, "k") as at:
        assert at.base_url == expected and str(at._http.base_url).rstrip("/") == expected


async def test_default_account_pairs_sandbox_with_the_sandbox_host(monkeypatch):
    from switchboard.accounts import ProviderClients
    from switchboard.providers.africastalking.settings import AfricasTalkingSettings

    monkeypatch.delenv("SB_AT_BASE_URL", raising=False)
    monkeypatch.delenv("SB_AT_USERNAME", raising=False)
    settings = AfricasTalkingSettings()
    assert settings.at_username == "sandbox"
    async with settings.at_client() as at:
        assert at.base_url == "https://voice.sandbox.africastalking.com"
    clients = ProviderClients()
    try:
        assert clients.client("africastalking", "default").base_url == "https://voice.sandbox.africastalking.com"
    finally:
        await clients.aclose()
    monkeypatch.setenv("SB_AT_USERNAME", "acme-ke")
    async with AfricasTalkingSettings().at_client() as at:
        assert at.base_url == "https://voice.africastalking.com"
