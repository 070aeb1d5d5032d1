"""Tenant folders on the stack (issue 11): ``SB_FLOWS_DIR/tenants/<id>/`` flows and routes. An
inbound call to a tenant's number runs that tenant's flow and its CDR carries the tenant; a
tenant's key places calls with its own flows, and another tenant cannot name them."""

from __future__ import annotations

import uuid

import pytest
import yaml

from switchboard.testing import says

from .helpers import refresh_flows, sim_call, wait_cdr

pytestmark = pytest.mark.integration


def number() -> str:
    return f"+2547{uuid.uuid4().int % 10**8:08d}"


def tenant_folder(stack, tenant: str, flows: dict[str, str], routes: dict[str, str]) -> None:
    folder = stack.config.flows_dir / "tenants" / tenant
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in flows.items():
        doc = {"name": name, "actions": [{"type": "SAY", "params": {"text": text}}, {"type": "HANGUP"}]}
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc))
    (folder / "routes.yaml").write_text(yaml.safe_dump({"africastalking": routes}))


async def test_an_inbound_call_to_a_tenants_number_runs_its_flow(stack, http):
    tenant = f"acme{uuid.uuid4().hex[:6]}"
    line = f"+2547115{uuid.uuid4().int % 10**5:05d}"
    tenant_folder(stack, tenant, {"ivr": f"Welcome to {tenant}."}, {line: "ivr"})
    loaded = await refresh_flows(stack)
    assert loaded["tenants"][tenant]["routes"]["africastalking"] == {line: "ivr"}, loaded
    r = await http.post(f"{stack.config.sim_url}/sim/inbound", json={"caller": number(), "to": line})
    call = await sim_call(http, stack, r.json()["session_id"])
    assert says(call) == [f"Welcome to {tenant}."]  # not the top-level ivr of the same name
    row = await wait_cdr(stack, f"africastalking:{call['session_id']}")
    assert row["tenant_id"] == tenant and row["flow_id"] == "ivr"


async def test_a_tenants_key_dials_its_own_flows_only(stack, http):
    tenant = f"globex{uuid.uuid4().hex[:6]}"
    tenant_folder(stack, tenant, {"promo": f"An offer from {tenant}."}, {})
    await refresh_flows(stack)
    key = stack.mint_local_key(tenant)["key"]
    phone = number()
    await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": "answer"})
    ours = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers={"Authorization": f"Bearer {key}"},
        json={"to": phone, "flow": "promo"},
    )
    assert ours.status_code == 200, ours.text
    call = await sim_call(http, stack, ours.json()["provider_response"]["entries"][0]["sessionId"])
    assert says(call) == [f"An offer from {tenant}."]
    assert (await wait_cdr(stack, ours.json()["call_key"]))["tenant_id"] == tenant
    other = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers={"Authorization": f"Bearer {stack.api_key()}"},  # the local tenant: no such flow
        json={"to": number(), "flow": "promo"},
    )
    assert other.status_code == 422 and other.json()["field"] == "flow", other.text
