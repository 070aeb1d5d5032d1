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
