"""Toll-fraud guards on a flow's own DIAL and TRANSFER (issue 11): the flow-runner checks each
destination against the call's tenant's policy (``switchboard.tollfraud``), read from PostgreSQL,
and fails closed. A refused destination never rings: the caller hears the apology."""

from __future__ import annotations

import json
import uuid

import pytest

from switchboard.flow.actions.base import EngineSettings
from switchboard.testing import says
from switchboard_flow_runner.policies import PolicyCache

from .helpers import sim_call
from .test_flows import add_routes

pytestmark = pytest.mark.integration
APOLOGY = EngineSettings.error_message


def number() -> str:
    return f"+2547{uuid.uuid4().int % 10**8:08d}"


async def dial_flow(stack, http, name: str, to: str, action: str = "DIAL") -> dict:
    """An inbound call (default tenant) to a flow that DIALs (or TRANSFERs to) ``to``."""
    flow = {
        "name": name,
        "actions": [
            {"type": "SAY", "params": {"text": "Connecting you."}},
            {"type": action, "params": {"no": to}},
            {"type": "SAY", "params": {"text": "Nobody answered."}},
        ],
    }
    (stack.config.flows_dir / f"{name}.json").write_text(json.dumps(flow))
    inbound_no = f"+2547114{uuid.uuid4().int % 10**5:05d}"
    await add_routes(stack, {inbound_no: name})
    r = await http.post(f"{stack.config.sim_url}/sim/inbound", json={"caller": number(), "to": inbound_no})
    return await sim_call(http, stack, r.json()["session_id"])


async def placed_to(http, stack, to: str) -> list[dict]:
    calls = (await http.get(f"{stack.config.sim_url}/sim/calls")).json()["calls"]
    return [c for c in calls if c.get("caller_number") == to or to in json.dumps(c.get("transcript", []))]


@pytest.mark.parametrize(
    ("to", "action"),
    [
        ("+254900223456", "DIAL"),  # Kenyan premium rate: the tenant's country, a blocked type
        ("+449012345678", "TRANSFER"),  # a UK premium number: outside the tenant's countries too
        ("+12025550123", "DIAL"),  # the US: not a country the default tenant has numbers in
    ],
)
async def test_a_refused_destination_ends_with_the_apology_and_never_rings(stack, http, to, action):
    call = await dial_flow(stack, http, f"guard-{uuid.uuid4().hex[:8]}", to, action)
    assert says(call) == ["Connecting you.", APOLOGY], says(call)
    assert not [t for t in call["transcript"] if t["kind"] == "dial"], call["transcript"]
    assert await placed_to(http, stack, to) == []


async def test_an_allowed_destination_is_dialled(stack, http):
    desk = number()
    call = await dial_flow(stack, http, f"guard-ok-{uuid.uuid4().hex[:8]}", desk)
    assert APOLOGY not in says(call) and says(call)[0] == "Connecting you."
    assert [t for t in call["transcript"] if t["kind"] == "dial"], call["transcript"]


async def test_policy_cache_fails_closed(stack):
    """An unknown tenant, and a database that cannot be reached, refuse every destination."""
    cache = PolicyCache(stack.config.database_url, timeout_s=5)
    try:
        assert "unknown" in ((await cache.guard(f"nobody-{uuid.uuid4().hex[:6]}"))("+254711000999") or "")
        default = await cache.guard("default")
        assert default("+254900223456") and "blocked" in (default("+254900223456") or "")
    finally:
        await cache.close()
    down = PolicyCache("postgresql://switchboard@127.0.0.1:1/switchboard", timeout_s=2)
    reason = (await down.guard("default"))("+254711000999")
    assert reason is not None and "could not be read" in reason
    await down.close()
