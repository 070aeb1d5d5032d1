"""Tenant folders in SB_FLOWS_DIR (issue 11): ``tenants/<id>/`` flows and routes, the top level as
the default tenant, a number routed by two tenants refused at load."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from switchboard.flow.document import FlowInvalid
from switchboard.flow.repository import FlowRepository
from switchboard.redis import flow_doc_key


def write_flow(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"name": name, "actions": [{"type": "SAY", "params": {"text": text}}]}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc))


def write_routes(folder: Path, routes: dict) -> None:
    (folder / "routes.yaml").write_text(yaml.safe_dump(routes))


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    write_flow(tmp_path, "ivr", "top-level ivr")
    write_routes(tmp_path, {"africastalking": {"+254711000200": "ivr"}, "default": "ivr"})
    acme = tmp_path / "tenants" / "acme"
    write_flow(acme, "ivr", "acme ivr")
    write_flow(acme, "sales", "acme sales")
    write_routes(acme, {"africastalking": {"+254711000500": "sales", "+254711000501": "ivr"}})
    return tmp_path


def test_a_tenants_number_runs_its_own_flow(flows_dir: Path) -> None:
    repo = FlowRepository(flows_dir)
    assert repo.route_call("africastalking", "+254711000500") == ("acme", "sales")
    assert repo.route_call("africastalking", "+254711000501") == ("acme", "ivr")
    assert repo.route_call("africastalking", "+254711000200") == ("default", "ivr")
    assert repo.route_call("africastalking", "+254799999999") == ("default", "ivr")  # the top-level default
    acme_ivr, top_ivr = repo.for_tenant("acme").get("ivr"), repo.get("ivr")
    assert acme_ivr is not None and top_ivr is not None
    assert (
        acme_ivr.actions[0]["params"]["text"] == "acme ivr" and top_ivr.actions[0]["params"]["text"] == "top-level ivr"
    )
    assert repo.get("sales") is None  # another tenant's flow is not the default tenant's
    assert repo.for_tenant("nobody") is repo  # a tenant without a folder uses the top level
    assert repo.routed_numbers("acme") == ["+254711000500", "+254711000501"]
    assert repo.routed_numbers("default") == ["+254711000200"]
    assert repo.routed_numbers("nobody") == []


def test_a_number_routed_by_two_tenants_is_refused(flows_dir: Path) -> None:
    write_routes(flows_dir / "tenants" / "acme", {"africastalking": {"+254711000200": "ivr"}})
    with pytest.raises(FlowInvalid) as exc:
        FlowRepository(flows_dir)
    assert "+254711000200" in str(exc.value.problems[0]) and "'acme'" in str(exc.value.problems[0])


def test_a_broken_tenant_edit_keeps_the_previous_routes(flows_dir: Path) -> None:
    repo = FlowRepository(flows_dir, reload_s=0)
    write_flow(flows_dir / "tenants" / "globex", "x", "globex")
    write_routes(flows_dir / "tenants" / "globex", {"africastalking": {"+254711000500": "x"}})
    repo.refresh(force=True)  # refused: acme routes +254711000500 already
    assert repo.route_call("africastalking", "+254711000500") == ("acme", "sales")


def test_flow_documents_are_keyed_by_tenant() -> None:
    assert flow_doc_key("ivr", "abc") == "sb:flowdoc:{ivr}:abc"
    assert flow_doc_key("ivr", "abc", "acme") == "sb:flowdoc:acme:{ivr}:abc"
    assert flow_doc_key("ivr", "abc", "acme") != flow_doc_key("ivr", "abc", "globex")
