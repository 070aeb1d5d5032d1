"""Wire forms from the official SDKs through the whole stack (issue 9): a flow that speaks and then
rejects, as AT's own example app does (africastalking.md §4, §8); Telesign events signed the way
the SDK's helper reads them, and a correctly signed event next to a stale second header (§5)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from decimal import Decimal

import orjson
import pytest
import yaml

from switchboard_devstack.stack import TS_SIM_KEY

from .helpers import says, sim_call, wait_cdr

pytestmark = pytest.mark.integration


def signed(event: dict) -> tuple[bytes, str]:
    raw = orjson.dumps(event)
    return raw, base64.b64encode(hmac.new(base64.b64decode(TS_SIM_KEY), raw, hashlib.sha256).digest()).decode()


def incoming() -> dict:
    ref = uuid.uuid4().hex.upper()
    return {"event": "incoming_call", "reference_id": ref, "data": {"to": "15550000920", "from": "15550000001"}}


async def test_a_correct_authorization_next_to_a_stale_x_ts_authorization_is_accepted(stack, http):
    raw, good = signed(incoming())
    _, stale = signed(incoming())
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"TSA SIM-CUSTOMER-0001:{good}",
        "X-TS-Authorization": stale,
    }
    r = await http.post(stack.config.ts_callback_url, content=raw, headers=headers)
    assert r.status_code == 200 and r.json()["method"] == "speak", r.text


async def test_the_sdk_form_bare_signature_in_authorization_is_accepted(stack, http):
    raw, good = signed(incoming())
    headers = {"Content-Type": "application/json", "Authorization": good}
    r = await http.post(stack.config.ts_callback_url, content=raw, headers=headers)
    assert r.status_code == 200 and r.json()["method"] == "speak", r.text
    _, stale = signed(incoming())
    r = await http.post(stack.config.ts_callback_url, content=raw, headers={**headers, "Authorization": stale})
    assert r.status_code == 401


async def test_a_flow_that_speaks_then_rejects_runs_on_africas_talking(stack, http):
    flow = {
        "name": "balance-then-reject",
        "actions": [{"type": "SAY", "params": {"text": "Your balance is 120 shillings."}}, {"type": "REJECT"}],
    }
    (stack.config.flows_dir / "balance-then-reject.json").write_text(json.dumps(flow))
    routes = stack.config.flows_dir / "routes.yaml"
    data = yaml.safe_load(routes.read_text())
    data.setdefault("africastalking", {})["+254711000930"] = "balance-then-reject"
    routes.write_text(yaml.safe_dump(data))
    await asyncio.sleep(2.5)  # the runner looks at the folder at most every 2 s
    caller = f"+2547{uuid.uuid4().int % 10**8:08d}"
    r = await http.post(f"{stack.config.sim_url}/sim/inbound", json={"caller": caller, "to": "+254711000930"})
    call = await sim_call(http, stack, r.json()["session_id"])
    assert call["errors"] == [] and says(call) == ["Your balance is 120 shillings."]
    assert [t["kind"] for t in call["transcript"]][-2:] == ["reject", "end"]
    row = await wait_cdr(stack, f"africastalking:{call['session_id']}")
    assert row["status"] == "rejected" and row["duration_s"] > 0 and Decimal(str(row["cost"])) > 0
